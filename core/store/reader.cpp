// StoreReader (see reader.h). Sections:
//   1. opening: HDF5? HeadScope? schema version? — each failure a clear StoreError (read_access.h opens
//      the file: plain when no writer is live, SWMR with bounded retries beside a live one)
//   2. the layout and provenance (file_header.cpp), every dataset of the table opened (schema_table.h) and
//      its shape checked (store_checks.h)
//   3. committed rows: on open and on refresh(), token_start's length is read first, then every other
//      dataset is refreshed, and the new rows' indices and counts are checked before they are used
//   4. slices: traces, layers, summaries, flow, pinned attention, embeddings
#include "core/store/reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/store/file_header.h"
#include "core/store/h5.h"
#include "core/store/master.h"
#include "core/store/read_access.h"
#include "core/store/schema.h"
#include "core/store/schema_table.h"
#include "core/store/store_checks.h"
#include "core/util/half.h"

namespace headscope::store {

namespace sc = schema;
using h5::Id;

// ---------------------------------------------------------------------------------------------------
struct StoreReader::Impl {
  std::string path;
  Id file;
  bool swmr = false;  // opened in SWMR read mode (a writer was live, or was killed mid-run)
  StoreLayout layout;
  Provenance provenance;
  int schema_version = 0;
  std::string created, tool_version;
  bool complete = false;
  std::map<std::string, Id> datasets;  // every dataset of the table (schema_table.h), by path
  std::vector<hid_t> metric_sets, summary_sets, attention_sets;  // views into `datasets`, in layout order
  SampleColumns columns;               // cached per-sample columns, checked. [samples]
  RowExtents extents;                  // rows of each axis at the last refresh; no read goes past them
  std::int64_t samples = 0, tokens = 0, spans = 0;  // committed and checked
  // A master over shard files (master.h): its shards, and the identity of the file opened, since a live
  // run replaces the master as a whole (a new file renamed over it) rather than growing it.
  std::vector<ShardState> shards;
  bool master = false;
  std::uintmax_t file_identity[2] = {0, 0};  // device, inode
  std::vector<std::string> shard_files() const {  // the shards that exist
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& shard : shards)
      if (std::filesystem::exists(shard.path, ec)) files.push_back(shard.path);
    return files;
  }

  hid_t dataset(const char* name) const { return datasets.at(name); }
  void open_all();
  bool read_new_rows();
  void load_rows(std::int64_t from, std::int64_t to);
  void check_sample(std::int64_t i) const {
    if (i < 0 || i >= samples)
      throw StoreError(path + ": sample " + std::to_string(i) + " out of range (0.." + std::to_string(samples) + ")");
  }
  std::string read_pool(const char* name, std::int64_t start, std::int64_t length) const {
    std::string out(static_cast<std::size_t>(length), '\0');
    if (length > 0)
      h5::read_slab(dataset(name), H5T_NATIVE_UINT8, {static_cast<hsize_t>(start)}, {static_cast<hsize_t>(length)},
                    out.data(), path);
    return out;
  }
};

void StoreReader::Impl::open_all() {
  for (const auto& spec : sc::capture_datasets())
    if (spec.rows != sc::RowAxis::fixed)
      for (const auto& name : sc::dataset_paths(spec, layout))
        if (spec.role == sc::Role::data || h5::link_exists(file, name))  // scales and coordinates: newer stores only
          datasets.emplace(name, h5::open_dataset(file, name, path));
  check_dataset_shapes(datasets, layout, path);
  for (const auto& metric : layout.metrics) {
    metric_sets.push_back(datasets.at(std::string(sc::kMetrics) + "/" + metric.name).get());
    summary_sets.push_back(datasets.at(std::string(sc::kSummaries) + "/" + metric.name).get());
  }
  for (const auto& head : layout.pinned_heads)
    attention_sets.push_back(datasets.at(std::string(sc::kAttention) + "/" + head_name(head)).get());
}

template <typename T>
static void read_rows(const StoreReader::Impl& r, const char* name, hid_t memory_type, std::int64_t from, std::int64_t to,
                      std::vector<T>& column) {
  column.resize(static_cast<std::size_t>(to));
  if (to > from)
    h5::read_slab(r.dataset(name), memory_type, {static_cast<hsize_t>(from)}, {static_cast<hsize_t>(to - from)},
                  column.data() + from, r.path);
}

// Reads and checks rows [from, to) of the per-sample columns, their flow positions and their step spans.
void StoreReader::Impl::load_rows(std::int64_t from, std::int64_t to) {
  SampleColumns& c = columns;
  read_rows(*this, sc::kTokenStart, H5T_NATIVE_INT64, from, to, c.token_start);
  read_rows(*this, sc::kTokenCount, H5T_NATIVE_INT32, from, to, c.token_count);
  read_rows(*this, sc::kPromptLength, H5T_NATIVE_INT32, from, to, c.prompt_length);
  read_rows(*this, sc::kIdStart, H5T_NATIVE_INT64, from, to, c.id_start);
  read_rows(*this, sc::kIdLength, H5T_NATIVE_INT32, from, to, c.id_length);
  read_rows(*this, sc::kMetadataStart, H5T_NATIVE_INT64, from, to, c.metadata_start);
  read_rows(*this, sc::kMetadataLength, H5T_NATIVE_INT32, from, to, c.metadata_length);
  read_rows(*this, sc::kEmbeddingStart, H5T_NATIVE_INT64, from, to, c.embedding_start);
  read_rows(*this, sc::kEmbeddingCount, H5T_NATIVE_INT32, from, to, c.embedding_count);
  if (!layout.pinned_heads.empty()) read_rows(*this, sc::kAttentionOffset, H5T_NATIVE_INT64, from, to, c.attention_offset);
  check_sample_rows(c, from, to, layout, extents, path);
  if (layout.flow_size > 0 && to > from) {
    const hsize_t k = static_cast<hsize_t>(layout.flow_size), rows = static_cast<hsize_t>(to - from);
    std::vector<std::int32_t> positions(rows * k);
    h5::read_slab(dataset(sc::kFlowPositions), H5T_NATIVE_INT32, {static_cast<hsize_t>(from), 0}, {rows, k}, positions.data(), path);
    check_flow_positions(positions, from, layout.flow_size, c, path);
  }
  const std::int64_t span_to = to > 0 ? c.embedding_start[to - 1] + c.embedding_count[to - 1] : 0;
  if (layout.embedding_dim > 0 && span_to > spans) {
    SpanRows rows;
    read_rows(*this, sc::kEmbeddingSample, H5T_NATIVE_INT64, spans, span_to, rows.sample);
    read_rows(*this, sc::kEmbeddingSpanStart, H5T_NATIVE_INT32, spans, span_to, rows.span_start);
    read_rows(*this, sc::kEmbeddingSpanEnd, H5T_NATIVE_INT32, spans, span_to, rows.span_end);
    read_rows(*this, sc::kEmbeddingLabelStart, H5T_NATIVE_INT64, spans, span_to, rows.label_start);
    read_rows(*this, sc::kEmbeddingLabelLength, H5T_NATIVE_INT32, spans, span_to, rows.label_length);
    for (auto* column : {&rows.sample, &rows.label_start}) column->erase(column->begin(), column->begin() + spans);
    for (auto* column : {&rows.span_start, &rows.span_end, &rows.label_length}) column->erase(column->begin(), column->begin() + spans);
    check_span_rows(rows, spans, to, c, extents, path);
  }
  samples = to;
  tokens = to > 0 ? c.token_start[to - 1] + c.token_count[to - 1] : 0;
  spans = span_to;
}

// The committed sample count is token_start's length (the writer appends that row last). It is read
// first; every other dataset is refreshed after it, so each holds at least the rows those samples use.
bool StoreReader::Impl::read_new_rows() {
  // A master is replaced whole, never grown (refresh() reopens it), and H5Drefresh on its virtual datasets
  // would close their source datasets under every other handle of the file in this process.
  const bool grows = swmr && !master;
  if (grows) h5::check_status(H5Drefresh(dataset(sc::kTokenStart)), path, "cannot refresh " + std::string(sc::kTokenStart));
  const auto now = static_cast<std::int64_t>(h5::extent0(dataset(sc::kTokenStart)));
  if (now <= samples) return false;
  if (grows)
    for (auto& [name, set] : datasets)
      if (name != sc::kTokenStart) h5::check_status(H5Drefresh(set), path, "cannot refresh " + name);
  extents = row_extents(datasets, layout);
  if (extents[sc::RowAxis::sample] < now)
    throw StoreError(path + ": " + std::to_string(now) + " samples committed, but a per-sample dataset holds only " +
                     std::to_string(extents[sc::RowAxis::sample]) + " rows (damaged file?)");
  const std::int64_t before = samples;
  try {
    load_rows(before, now);
  } catch (...) {  // keep the rows already checked, and only those
    for (auto* column : {&columns.token_start, &columns.id_start, &columns.metadata_start, &columns.embedding_start,
                         &columns.attention_offset})
      column->resize(std::min(column->size(), static_cast<std::size_t>(before)));
    for (auto* column : {&columns.token_count, &columns.prompt_length, &columns.id_length, &columns.metadata_length,
                         &columns.embedding_count})
      column->resize(std::min(column->size(), static_cast<std::size_t>(before)));
    throw;
  }
  return true;
}

// The device and inode of `path` now ({0, 0} when it cannot be read).
static void identify(const std::string& path, std::uintmax_t (&identity)[2]) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) identity[0] = identity[1] = 0;
  else identity[0] = status.st_dev, identity[1] = status.st_ino;
}

// A master: every shard it maps rows of must be there (else those rows would read as fill values), and it
// is read in SWMR mode so that shards being written (or left by a killed writer) open as sources.
static void open_master(StoreReader::Impl& r) {
  r.master = true;
  r.shards = master_shards(r.file, r.path);
  for (const auto& shard : r.shards) {
    std::error_code ec;
    if (shard.mapped_samples > 0 && !std::filesystem::exists(shard.path, ec))
      throw StoreError(r.path + ": its shard " + shard.file + " is missing, so its " + std::to_string(shard.mapped_samples) +
                       " samples cannot be read (`headscope inspect " + r.path + "` lists the shards)");
  }
  identify(r.path, r.file_identity);
  if (!r.swmr) {
    r.file = h5::Id();  // HDF5 opens a file once per process: close the plain open first
    OpenedFile opened = open_master_for_reading(r.path);
    r.file = std::move(opened.file);
    r.swmr = true;
  }
}

std::unique_ptr<StoreReader> StoreReader::open(const std::string& path) {
  h5::quiet_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw StoreError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw StoreError(path + ": is a folder, not a store file");
  if (H5Fis_hdf5(path.c_str()) <= 0 && !writer_lock_held(path)) {  // a writer may not have written its superblock yet
    H5Eclear2(H5E_DEFAULT);
    throw StoreError(path + ": not an HDF5 file (no HDF5 signature); a HeadScope store is an HDF5 file");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  OpenedFile opened = open_for_reading(path);
  impl->file = std::move(opened.file);
  impl->swmr = opened.swmr;
  const RootAttributes root = read_root_attributes(impl->file, path);
  check_format(root, path);
  impl->schema_version = root.schema_version;
  impl->layout = read_layout(impl->file, path);
  check_layout(impl->layout, path);
  for (const char* name : {sc::kCreated, sc::kToolVersion, sc::kComplete})  // required in a store
    if (!h5::has_attribute(impl->file, name)) throw StoreError(path + ": root attribute '" + name + "' missing");
  impl->created = root.created;
  impl->tool_version = root.tool_version;
  impl->complete = root.complete;
  impl->provenance = read_provenance(impl->file, path);
  if (is_master(impl->file)) open_master(*impl);
  impl->open_all();
  impl->read_new_rows();
  return std::unique_ptr<StoreReader>(new StoreReader(std::move(impl)));
}

StoreReader::StoreReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreReader::~StoreReader() = default;

const std::string& StoreReader::path() const { return impl_->path; }
const StoreLayout& StoreReader::layout() const { return impl_->layout; }
const Provenance& StoreReader::provenance() const { return impl_->provenance; }
int StoreReader::schema_version() const { return impl_->schema_version; }
std::string StoreReader::created() const { return impl_->created; }
std::string StoreReader::tool_version() const { return impl_->tool_version; }
bool StoreReader::complete() const { return impl_->complete; }
bool StoreReader::appends_only() const { return !impl_->master; }
bool StoreReader::live() const {
  if (impl_->complete) return false;
  if (!impl_->master) return writer_lock_held(impl_->path);
  for (const auto& shard : impl_->shards)
    if (writer_lock_held(shard.path)) return true;
  return false;
}

// 3. Refresh -----------------------------------------------------------------------------------------
bool StoreReader::refresh() {
  auto& r = *impl_;
  if (r.complete || !r.swmr) return false;  // a file opened without a live writer does not grow
  if (r.master) {  // a live run's master is replaced whole: reopen the new one
    std::uintmax_t now[2];
    identify(r.path, now);
    if ((now[0] == r.file_identity[0] && now[1] == r.file_identity[1]) || now[1] == 0) return false;
    // Every handle of the old master closes first: HDF5 shares a file opened twice in one process, and the
    // old master's virtual datasets hold the shards open with their metadata as of that open, which the new
    // master's rows lie beyond (reads of them fail). A failed open leaves no file: the next refresh retries.
    const std::int64_t before = r.samples;
    r.metric_sets.clear();
    r.summary_sets.clear();
    r.attention_sets.clear();
    r.datasets.clear();
    r.file = h5::Id();
    try {
      r = std::move(*StoreReader::open(r.path)->impl_);
    } catch (...) {  // no layout and no samples: every read refuses (StoreError) until a refresh reopens it
      Impl closed;
      closed.path = r.path;
      closed.master = closed.swmr = true;
      r = std::move(closed);
      throw;
    }
    return r.samples > before;
  }
  return r.read_new_rows();
}

std::int64_t StoreReader::sample_count() const { return impl_->samples; }
std::int64_t StoreReader::token_count() const { return impl_->tokens; }

SampleInfo StoreReader::sample(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  SampleInfo info;
  info.index = i;
  info.token_start = r.columns.token_start[i];
  info.token_count = r.columns.token_count[i];
  info.prompt_length = r.columns.prompt_length[i];
  info.id = r.read_pool(sc::kSampleText, r.columns.id_start[i], r.columns.id_length[i]);
  info.metadata_json = r.read_pool(sc::kSampleText, r.columns.metadata_start[i], r.columns.metadata_length[i]);
  info.facts = decode_sample_facts(info.metadata_json);
  check_sample_metadata(info, r.path);
  return info;
}

std::vector<std::int32_t> StoreReader::tokens(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(r.columns.token_count[i]));
  h5::read_slab(r.dataset(sc::kTokenIds), H5T_NATIVE_INT32, {static_cast<hsize_t>(r.columns.token_start[i])},
                {ids.size()}, ids.data(), r.path);
  return ids;
}

std::vector<std::string> StoreReader::token_text(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  const hsize_t n = static_cast<hsize_t>(r.columns.token_count[i]), at = static_cast<hsize_t>(r.columns.token_start[i]);
  std::vector<std::int64_t> starts(n);
  std::vector<std::int32_t> lengths(n);
  h5::read_slab(r.dataset(sc::kTokenTextStart), H5T_NATIVE_INT64, {at}, {n}, starts.data(), r.path);
  h5::read_slab(r.dataset(sc::kTokenTextLength), H5T_NATIVE_INT32, {at}, {n}, lengths.data(), r.path);
  check_token_text(starts, lengths, static_cast<std::int64_t>(at), r.extents, r.path);
  std::vector<std::string> out(n);
  if (n == 0) return out;
  std::int64_t first = starts[0], last = starts[0];
  for (hsize_t t = 0; t < n; ++t) {
    first = std::min(first, starts[t]);
    last = std::max(last, starts[t] + lengths[t]);
  }
  const std::string pool = r.read_pool(sc::kTokenText, first, last - first);
  for (hsize_t t = 0; t < n; ++t) out[t] = pool.substr(static_cast<std::size_t>(starts[t] - first), static_cast<std::size_t>(lengths[t]));
  return out;
}

// 4. Slices ------------------------------------------------------------------------------------------
int StoreReader::metric_index(const std::string& name) const {
  const auto& metrics = impl_->layout.metrics;
  for (std::size_t m = 0; m < metrics.size(); ++m)
    if (metrics[m].name == name) return static_cast<int>(m);
  return -1;
}

static std::vector<float> read_values(const StoreReader::Impl& r, hid_t dataset, const std::vector<hsize_t>& start,
                                      const std::vector<hsize_t>& count) {
  hsize_t total = 1;
  for (hsize_t c : count) total *= c;
  std::vector<float> out(total);
  if (r.layout.metric_type == ValueType::float16) {
    std::vector<std::uint16_t> halves(total);
    h5::read_slab(dataset, h5::float16_type(), start, count, halves.data(), r.path);
    for (hsize_t i = 0; i < total; ++i) out[i] = half_to_float(halves[i]);
  } else {
    h5::read_slab(dataset, H5T_NATIVE_FLOAT, start, count, out.data(), r.path);
  }
  return out;
}

static int require_metric(const StoreReader& reader, const std::string& name) {
  int m = reader.metric_index(name);
  if (m < 0) throw StoreError(reader.path() + ": no metric '" + name + "' in this store");
  return m;
}

std::vector<float> StoreReader::head_trace(const std::string& metric, std::int64_t i, HeadRef head) const {
  const auto& r = *impl_;
  const int m = require_metric(*this, metric);
  r.check_sample(i);
  if (head.layer < 0 || head.layer >= r.layout.layer_count || head.head < 0 || head.head >= r.layout.head_count)
    throw StoreError(r.path + ": head " + head_name(head) + " outside the model's layers and heads");
  return read_values(r, r.metric_sets[m],
                     {static_cast<hsize_t>(r.columns.token_start[i]), static_cast<hsize_t>(head.layer), static_cast<hsize_t>(head.head)},
                     {static_cast<hsize_t>(r.columns.token_count[i]), 1, 1});
}

std::vector<float> StoreReader::layer_slice(const std::string& metric, std::int64_t i, int layer) const {
  const auto& r = *impl_;
  const int m = require_metric(*this, metric);
  r.check_sample(i);
  if (layer < 0 || layer >= r.layout.layer_count) throw StoreError(r.path + ": layer " + std::to_string(layer) + " out of range");
  return read_values(r, r.metric_sets[m], {static_cast<hsize_t>(r.columns.token_start[i]), static_cast<hsize_t>(layer), 0},
                     {static_cast<hsize_t>(r.columns.token_count[i]), 1, static_cast<hsize_t>(r.layout.head_count)});
}

std::vector<float> StoreReader::summary(const std::string& metric) const {
  const auto& r = *impl_;
  const int m = require_metric(*this, metric);
  const hsize_t L = static_cast<hsize_t>(r.layout.layer_count), H = static_cast<hsize_t>(r.layout.head_count);
  std::vector<float> out(static_cast<std::size_t>(r.samples) * L * H);
  if (r.samples > 0)
    h5::read_slab(r.summary_sets[m], H5T_NATIVE_FLOAT, {0, 0, 0}, {static_cast<hsize_t>(r.samples), L, H}, out.data(), r.path);
  return out;
}

std::vector<std::int32_t> StoreReader::flow_positions(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  if (r.layout.flow_size == 0) return {};
  const hsize_t K = static_cast<hsize_t>(r.layout.flow_size);
  std::vector<std::int32_t> out(K);
  h5::read_slab(r.dataset(sc::kFlowPositions), H5T_NATIVE_INT32, {static_cast<hsize_t>(i), 0}, {1, K}, out.data(), r.path);
  return out;
}

std::vector<float> StoreReader::flow(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  if (r.layout.flow_size == 0) return {};
  const hsize_t K = static_cast<hsize_t>(r.layout.flow_size), L = static_cast<hsize_t>(r.layout.layer_count),
                H = static_cast<hsize_t>(r.layout.head_count);
  std::vector<float> out(L * H * K * K);
  h5::read_slab(r.dataset(sc::kFlowMatrices), H5T_NATIVE_FLOAT, {static_cast<hsize_t>(i), 0, 0, 0, 0}, {1, L, H, K, K},
                out.data(), r.path);
  return out;
}

std::optional<std::vector<float>> StoreReader::pinned_attention(std::int64_t i, HeadRef head) const {
  const auto& r = *impl_;
  r.check_sample(i);
  for (std::size_t p = 0; p < r.layout.pinned_heads.size(); ++p) {
    if (!(r.layout.pinned_heads[p] == head)) continue;
    const hsize_t n = static_cast<hsize_t>(r.columns.token_count[i]);
    std::vector<float> out(n * n);
    h5::read_slab(r.attention_sets[p], H5T_NATIVE_FLOAT, {static_cast<hsize_t>(r.columns.attention_offset[i])}, {n * n},
                  out.data(), r.path);
    return out;
  }
  return std::nullopt;
}

std::int64_t StoreReader::embedding_count() const { return impl_->layout.embedding_dim > 0 ? impl_->spans : 0; }

SpanEmbeddings StoreReader::embeddings() const {
  const auto& r = *impl_;
  SpanEmbeddings out;
  const hsize_t n = static_cast<hsize_t>(embedding_count());
  if (n == 0) return out;
  const hsize_t D = static_cast<hsize_t>(r.layout.embedding_dim);
  out.vectors.resize(n * D);
  out.span_start.resize(n);
  out.span_end.resize(n);
  h5::read_slab(r.dataset(sc::kEmbeddingVectors), H5T_NATIVE_FLOAT, {0, 0}, {n, D}, out.vectors.data(), r.path);
  h5::read_slab(r.dataset(sc::kEmbeddingSpanStart), H5T_NATIVE_INT32, {0}, {n}, out.span_start.data(), r.path);
  h5::read_slab(r.dataset(sc::kEmbeddingSpanEnd), H5T_NATIVE_INT32, {0}, {n}, out.span_end.data(), r.path);
  std::vector<std::int64_t> starts(n);
  std::vector<std::int32_t> lengths(n);
  h5::read_slab(r.dataset(sc::kEmbeddingLabelStart), H5T_NATIVE_INT64, {0}, {n}, starts.data(), r.path);
  h5::read_slab(r.dataset(sc::kEmbeddingLabelLength), H5T_NATIVE_INT32, {0}, {n}, lengths.data(), r.path);
  std::int64_t pool_bytes = 0;  // the labels were checked inside label_text on open (store_checks.h)
  for (hsize_t i = 0; i < n; ++i) pool_bytes = std::max(pool_bytes, starts[i] + lengths[i]);
  const std::string pool = r.read_pool(sc::kEmbeddingLabelText, 0, pool_bytes);
  for (hsize_t i = 0; i < n; ++i) out.labels.push_back(pool.substr(static_cast<std::size_t>(starts[i]), static_cast<std::size_t>(lengths[i])));
  out.generated.assign(n, 0);  // stores from before generated steps: all prompt spans
  if (r.datasets.count("/embeddings/generated"))
    h5::read_slab(r.dataset("/embeddings/generated"), H5T_NATIVE_INT32, {0}, {n}, out.generated.data(), r.path);
  return out;
}

std::vector<std::int64_t> StoreReader::embedding_sample() const {
  const auto& r = *impl_;
  const hsize_t n = static_cast<hsize_t>(embedding_count());
  std::vector<std::int64_t> out(n);
  if (n) h5::read_slab(r.dataset(sc::kEmbeddingSample), H5T_NATIVE_INT64, {0}, {n}, out.data(), r.path);
  return out;
}

// A master's bytes are its own plus its shards' (the data is in the shards).
std::uint64_t StoreReader::file_bytes() const {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& path : impl_->master ? impl_->shard_files() : std::vector<std::string>{}) {
    const auto size = std::filesystem::file_size(path, ec);
    bytes += ec ? 0 : size;
  }
  const auto size = std::filesystem::file_size(impl_->path, ec);
  return bytes + (ec ? 0 : size);
}

std::uint64_t StoreReader::metric_storage_bytes(const std::string& metric) const {
  const std::size_t m = static_cast<std::size_t>(require_metric(*this, metric));
  if (!impl_->master) return H5Dget_storage_size(impl_->metric_sets[m]);
  std::uint64_t bytes = 0;  // a virtual dataset stores nothing itself: its shards' storage
  for (const auto& path : impl_->shard_files()) {
    OpenedFile shard = open_master_for_reading(path);  // in the mode the master's sources are open in
    h5::Id dataset(H5Dopen2(shard.file, (std::string(sc::kMetrics) + "/" + metric).c_str(), H5P_DEFAULT));
    if (dataset.valid()) bytes += H5Dget_storage_size(dataset);
    H5Eclear2(H5E_DEFAULT);
  }
  return bytes;
}

}  // namespace headscope::store
