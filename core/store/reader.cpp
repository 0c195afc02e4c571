// StoreReader (see reader.h). Sections:
//   1. opening: HDF5? HeadScope? schema version? — each failure a clear StoreError
//   2. the layout and provenance (file_header.cpp), every dataset of the table opened (schema_table.h)
//   3. per-sample columns, cached and extended by refresh() while a writer appends (SWMR)
//   4. slices: traces, layers, summaries, flow, pinned attention, embeddings
#include "core/store/reader.h"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/store/file_header.h"
#include "core/store/h5.h"
#include "core/store/schema.h"
#include "core/store/schema_table.h"
#include "core/util/half.h"

namespace headscope::store {

namespace sc = schema;
using h5::Id;

// ---------------------------------------------------------------------------------------------------
struct StoreReader::Impl {
  std::string path;
  Id file;
  StoreLayout layout;
  Provenance provenance;
  int schema_version = 0;
  std::string created, tool_version;
  bool complete = false;
  std::map<std::string, Id> datasets;  // every dataset of the table (schema_table.h), by path
  std::vector<hid_t> metric_sets, summary_sets, attention_sets;  // views into `datasets`, in layout order
  // Cached per-sample columns. [samples]
  std::vector<std::int64_t> token_start, id_start, metadata_start, embedding_start, attention_offset;
  std::vector<std::int32_t> token_count, prompt_length, id_length, metadata_length, embedding_count;
  std::int64_t samples = 0, tokens = 0;

  hid_t dataset(const char* name) const { return datasets.at(name); }
  void open_all();
  void load_columns(std::int64_t from, std::int64_t to);
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
      for (const auto& name : sc::dataset_paths(spec, layout)) datasets.emplace(name, h5::open_dataset(file, name, path));
  for (const auto& metric : layout.metrics) {
    metric_sets.push_back(datasets.at(std::string(sc::kMetrics) + "/" + metric.name).get());
    summary_sets.push_back(datasets.at(std::string(sc::kSummaries) + "/" + metric.name).get());
  }
  for (const auto& head : layout.pinned_heads)
    attention_sets.push_back(datasets.at(std::string(sc::kAttention) + "/" + head_name(head)).get());
}

template <typename T>
static void append_column(const StoreReader::Impl& r, const char* name, hid_t memory_type, std::int64_t from,
                          std::int64_t to, std::vector<T>& column) {
  column.resize(static_cast<std::size_t>(to));
  if (to > from)
    h5::read_slab(r.dataset(name), memory_type, {static_cast<hsize_t>(from)}, {static_cast<hsize_t>(to - from)},
                  column.data() + from, r.path);
}

void StoreReader::Impl::load_columns(std::int64_t from, std::int64_t to) {
  append_column(*this, sc::kTokenStart, H5T_NATIVE_INT64, from, to, token_start);
  append_column(*this, sc::kTokenCount, H5T_NATIVE_INT32, from, to, token_count);
  append_column(*this, sc::kPromptLength, H5T_NATIVE_INT32, from, to, prompt_length);
  append_column(*this, sc::kIdStart, H5T_NATIVE_INT64, from, to, id_start);
  append_column(*this, sc::kIdLength, H5T_NATIVE_INT32, from, to, id_length);
  append_column(*this, sc::kMetadataStart, H5T_NATIVE_INT64, from, to, metadata_start);
  append_column(*this, sc::kMetadataLength, H5T_NATIVE_INT32, from, to, metadata_length);
  append_column(*this, sc::kEmbeddingStart, H5T_NATIVE_INT64, from, to, embedding_start);
  append_column(*this, sc::kEmbeddingCount, H5T_NATIVE_INT32, from, to, embedding_count);
  if (!layout.pinned_heads.empty()) append_column(*this, sc::kAttentionOffset, H5T_NATIVE_INT64, from, to, attention_offset);
  samples = to;
  tokens = to > 0 ? token_start[to - 1] + token_count[to - 1] : 0;
}

static Id open_file(const std::string& path) {
  Id access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(access, false, true);  // readers never block the writer; see writer.cpp's own lock
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, access);
  if (file < 0) {
    H5Eclear2(H5E_DEFAULT);
    file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access);  // older superblocks cannot be read in SWMR mode
  }
  return Id(h5::check(file, path, "cannot open the HDF5 file (truncated or corrupt?)"));
}

std::unique_ptr<StoreReader> StoreReader::open(const std::string& path) {
  h5::quiet_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw StoreError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw StoreError(path + ": is a folder, not a store file");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw StoreError(path + ": not an HDF5 file (no HDF5 signature); a HeadScope store is an HDF5 file");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = open_file(path);
  const RootAttributes root = read_root_attributes(impl->file, path);
  check_format(root, path);
  impl->schema_version = root.schema_version;
  impl->layout = read_layout(impl->file, path);
  for (const char* name : {sc::kCreated, sc::kToolVersion, sc::kComplete})  // required in a store
    if (!h5::has_attribute(impl->file, name)) throw StoreError(path + ": root attribute '" + name + "' missing");
  impl->created = root.created;
  impl->tool_version = root.tool_version;
  impl->complete = root.complete;
  impl->provenance = read_provenance(impl->file, path);
  impl->open_all();
  impl->load_columns(0, static_cast<std::int64_t>(h5::extent0(impl->dataset(sc::kTokenStart))));
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

bool StoreReader::live() const {
  if (impl_->complete) return false;
  const std::string lock_path = impl_->path + sc::kWriterLockSuffix;
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

// 3. Refresh -----------------------------------------------------------------------------------------
bool StoreReader::refresh() {
  auto& r = *impl_;
  if (r.complete) return false;
  H5Drefresh(r.dataset(sc::kTokenStart));
  const auto now = static_cast<std::int64_t>(h5::extent0(r.dataset(sc::kTokenStart)));
  if (now == r.samples) return false;
  for (auto& [name, set] : r.datasets) H5Drefresh(set);  // every dataset of the table, metrics included
  r.load_columns(r.samples, now);
  return true;
}

std::int64_t StoreReader::sample_count() const { return impl_->samples; }
std::int64_t StoreReader::token_count() const { return impl_->tokens; }

SampleInfo StoreReader::sample(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  SampleInfo info;
  info.index = i;
  info.token_start = r.token_start[i];
  info.token_count = r.token_count[i];
  info.prompt_length = r.prompt_length[i];
  info.id = r.read_pool(sc::kSampleText, r.id_start[i], r.id_length[i]);
  info.metadata_json = r.read_pool(sc::kSampleText, r.metadata_start[i], r.metadata_length[i]);
  info.facts = decode_sample_facts(info.metadata_json);
  return info;
}

std::vector<std::int32_t> StoreReader::tokens(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(r.token_count[i]));
  h5::read_slab(r.dataset(sc::kTokenIds), H5T_NATIVE_INT32, {static_cast<hsize_t>(r.token_start[i])},
                {ids.size()}, ids.data(), r.path);
  return ids;
}

std::vector<std::string> StoreReader::token_text(std::int64_t i) const {
  const auto& r = *impl_;
  r.check_sample(i);
  const hsize_t n = static_cast<hsize_t>(r.token_count[i]), at = static_cast<hsize_t>(r.token_start[i]);
  std::vector<std::int64_t> starts(n);
  std::vector<std::int32_t> lengths(n);
  h5::read_slab(r.dataset(sc::kTokenTextStart), H5T_NATIVE_INT64, {at}, {n}, starts.data(), r.path);
  h5::read_slab(r.dataset(sc::kTokenTextLength), H5T_NATIVE_INT32, {at}, {n}, lengths.data(), r.path);
  std::vector<std::string> out(n);
  if (n == 0) return out;
  const std::int64_t first = starts[0], last = starts[n - 1] + lengths[n - 1];
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
                     {static_cast<hsize_t>(r.token_start[i]), static_cast<hsize_t>(head.layer), static_cast<hsize_t>(head.head)},
                     {static_cast<hsize_t>(r.token_count[i]), 1, 1});
}

std::vector<float> StoreReader::layer_slice(const std::string& metric, std::int64_t i, int layer) const {
  const auto& r = *impl_;
  const int m = require_metric(*this, metric);
  r.check_sample(i);
  if (layer < 0 || layer >= r.layout.layer_count) throw StoreError(r.path + ": layer " + std::to_string(layer) + " out of range");
  return read_values(r, r.metric_sets[m], {static_cast<hsize_t>(r.token_start[i]), static_cast<hsize_t>(layer), 0},
                     {static_cast<hsize_t>(r.token_count[i]), 1, static_cast<hsize_t>(r.layout.head_count)});
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
    const hsize_t n = static_cast<hsize_t>(r.token_count[i]);
    std::vector<float> out(n * n);
    h5::read_slab(r.attention_sets[p], H5T_NATIVE_FLOAT, {static_cast<hsize_t>(r.attention_offset[i])}, {n * n},
                  out.data(), r.path);
    return out;
  }
  return std::nullopt;
}

std::int64_t StoreReader::embedding_count() const {
  const auto& r = *impl_;
  if (r.layout.embedding_dim == 0 || r.samples == 0) return 0;
  return r.embedding_start[r.samples - 1] + r.embedding_count[r.samples - 1];
}

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
  const std::string pool = r.read_pool(sc::kEmbeddingLabelText, 0, starts[n - 1] + lengths[n - 1]);
  for (hsize_t i = 0; i < n; ++i) out.labels.push_back(pool.substr(static_cast<std::size_t>(starts[i]), static_cast<std::size_t>(lengths[i])));
  return out;
}

std::vector<std::int64_t> StoreReader::embedding_sample() const {
  const auto& r = *impl_;
  const hsize_t n = static_cast<hsize_t>(embedding_count());
  std::vector<std::int64_t> out(n);
  if (n) h5::read_slab(r.dataset(sc::kEmbeddingSample), H5T_NATIVE_INT64, {0}, {n}, out.data(), r.path);
  return out;
}

std::uint64_t StoreReader::file_bytes() const {
  std::error_code ec;
  auto size = std::filesystem::file_size(impl_->path, ec);
  return ec ? 0 : size;
}

std::uint64_t StoreReader::metric_storage_bytes(const std::string& metric) const {
  return H5Dget_storage_size(impl_->metric_sets[static_cast<std::size_t>(require_metric(*this, metric))]);
}

}  // namespace headscope::store
