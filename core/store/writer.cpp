// StoreWriter (see writer.h). Sections:
//   1. validation of a SampleRecord against the layout
//   2. creating a new file: root attributes, provenance, every dataset (SWMR cannot add them later)
//   3. reopening for resume: clear the killed writer's status flags, trim rows past the last commit
//   4. append: data first, the /samples/token_start row last, then a flush (the commit point)
#include "core/store/writer.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <ctime>
#include <limits>
#include <filesystem>
#include <map>
#include <numeric>

#include "core/store/committed_rows.h"
#include "core/store/dimension_scales.h"
#include "core/store/facts.h"
#include "core/store/file_header.h"
#include "core/store/file_replace.h"
#include "core/store/h5.h"
#include "core/store/schema.h"
#include "core/store/schema_table.h"
#include "core/util/half.h"

namespace headscope::store {

namespace sc = schema;
using h5::Id;

// ---------------------------------------------------------------------------------------------------

struct StoreWriter::Impl {
  std::string path;
  StoreLayout layout;
  std::unique_ptr<WriterLock> lock;
  Id file;
  std::map<std::string, Id> datasets;  // every dataset of the table, by path, kept open for appends
  RowCounts committed;  // committed rows of each axis (committed_rows.h): what resume trims back to
  std::vector<std::string> ids;
  bool closed = false;

  hid_t dataset(const std::string& name) const { return datasets.at(name); }
  std::string metric_path(std::size_t m) const { return std::string(sc::kMetrics) + "/" + layout.metrics[m].name; }
  std::string summary_path(std::size_t m) const { return std::string(sc::kSummaries) + "/" + layout.metrics[m].name; }
  std::string attention_path(std::size_t p) const { return std::string(sc::kAttention) + "/" + head_name(layout.pinned_heads[p]); }

  // Writes `count` rows at `at` of a table dataset, in the memory type of its element type.
  void write(const std::string& name, sc::ElementType type, hsize_t at, hsize_t count, const void* data) {
    h5::write_rows(dataset(name), memory_type(type), at, count, data, path);
  }
  void write(const char* name, hsize_t at, hsize_t count, const void* data) {
    const auto& spec = sc::dataset_spec(name);
    if (spec.type == sc::ElementType::text) h5::write_rows(dataset(name), text_type(spec.text_bytes), at, count, data, path);
    else write(name, spec.type, at, count, data);
  }
  hid_t memory_type(sc::ElementType type) const;

  void validate(const SampleRecord& s) const;
  void create_datasets();
  void open_datasets();
  void read_committed();
  void trim_to_committed();
  void write_optional(const char* name, hsize_t at, hsize_t count, const void* data);
  void append(const SampleRecord& s);
};

hid_t StoreWriter::Impl::memory_type(sc::ElementType type) const {
  switch (type) {
    case sc::ElementType::int32: return H5T_NATIVE_INT32;
    case sc::ElementType::int64: return H5T_NATIVE_INT64;
    case sc::ElementType::uint8: return H5T_NATIVE_UINT8;
    case sc::ElementType::float32: return H5T_NATIVE_FLOAT;
    case sc::ElementType::metric: return layout.metric_type == ValueType::float16 ? h5::float16_type() : H5T_NATIVE_FLOAT;
    case sc::ElementType::text: break;  // sized per entry: write(name, ...) uses text_type(spec.text_bytes)
  }
  return H5T_NATIVE_FLOAT;
}

// 1. Validation --------------------------------------------------------------------------------------
void StoreWriter::Impl::validate(const SampleRecord& s) const {
  const std::string where = path + ": sample '" + s.id + "': ";
  const std::size_t n = s.tokens.size();
  if (n == 0) throw StoreError(where + "no tokens");
  if (!s.token_text.empty() && s.token_text.size() != n)
    throw StoreError(where + "token_text has " + std::to_string(s.token_text.size()) + " entries for " +
                     std::to_string(n) + " tokens");
  if (s.prompt_length < 0 || static_cast<std::size_t>(s.prompt_length) > n)
    throw StoreError(where + "prompt_length " + std::to_string(s.prompt_length) + " outside 0.." + std::to_string(n));
  const std::size_t per_token = static_cast<std::size_t>(layout.layer_count) * layout.head_count;
  if (s.metrics.size() != layout.metrics.size())
    throw StoreError(where + "has " + std::to_string(s.metrics.size()) + " metric arrays, layout has " +
                     std::to_string(layout.metrics.size()));
  for (std::size_t m = 0; m < s.metrics.size(); ++m)
    if (s.metrics[m].size() != n * per_token)
      throw StoreError(where + "metric '" + layout.metrics[m].name + "' has " + std::to_string(s.metrics[m].size()) +
                       " values, expected tokens*layers*heads = " + std::to_string(n * per_token));
  if (layout.flow_size > 0) {
    const std::size_t k = static_cast<std::size_t>(layout.flow_size);
    if (s.flow.size() != per_token * k * k || s.flow_positions.size() != k)
      throw StoreError(where + "flow matrices must be [layers, heads, " + std::to_string(k) + ", " +
                       std::to_string(k) + "] with " + std::to_string(k) + " positions");
  } else if (!s.flow.empty()) {
    throw StoreError(where + "has flow matrices but the store was created without them");
  }
  if (s.pinned_attention.size() != layout.pinned_heads.size())
    throw StoreError(where + "has " + std::to_string(s.pinned_attention.size()) + " pinned attention matrices, layout pins " +
                     std::to_string(layout.pinned_heads.size()) + " heads");
  for (const auto& matrix : s.pinned_attention)
    if (matrix.size() != n * n) throw StoreError(where + "a pinned attention matrix is not tokens x tokens");
  const auto& e = s.embeddings;
  const std::size_t spans = e.span_start.size();
  if (e.span_end.size() != spans || e.labels.size() != spans)
    throw StoreError(where + "embedding span_start, span_end and labels differ in length");
  if (spans > 0 && layout.embedding_dim == 0)
    throw StoreError(where + "has step embeddings but the store was created without them");
  if (e.vectors.size() != spans * static_cast<std::size_t>(layout.embedding_dim))
    throw StoreError(where + "embedding vectors must be [spans, " + std::to_string(layout.embedding_dim) + "]");
}

// 2. Creation ----------------------------------------------------------------------------------------
static hid_t file_type(sc::ElementType type, const StoreLayout& l) {
  switch (type) {
    case sc::ElementType::int32: return H5T_STD_I32LE;
    case sc::ElementType::int64: return H5T_STD_I64LE;
    case sc::ElementType::uint8: return H5T_STD_U8LE;
    case sc::ElementType::float32: return H5T_IEEE_F32LE;
    case sc::ElementType::metric: return l.metric_type == ValueType::float16 ? h5::float16_type() : H5T_IEEE_F32LE;
    case sc::ElementType::text: return H5T_C_S1;  // sized per entry: text_type(spec.text_bytes)
  }
  return H5T_IEEE_F32LE;
}

// The dataset's creation spec from its table entry: inner dimensions sized by the layout, chunking,
// compression, and (per metric) the metric's own units and description.
static h5::ExtendibleSpec extendible_spec(const sc::DatasetSpec& spec, const std::string& name, const StoreLayout& l,
                                          const MetricSpec* metric) {
  h5::ExtendibleSpec out;
  out.name = name;
  out.file_type = spec.type == sc::ElementType::text ? text_type(spec.text_bytes) : file_type(spec.type, l);
  for (std::size_t d = 1; d < spec.dims.size(); ++d) out.inner_dims.push_back(sc::dimension_size(spec.dims[d], l));
  for (unsigned long long extent : sc::chunk_shape(spec, l)) out.chunk.push_back(static_cast<hsize_t>(extent));
  out.deflate_level = spec.compressed ? l.deflate_level : 0;
  out.dim_labels.assign(spec.dims.begin(), spec.dims.end());
  out.units = metric && spec.units[0] == '\0' ? metric->units : spec.units;
  out.description = metric ? spec.description + metric->description : spec.description;
  if (spec.type == sc::ElementType::metric) {  // appends touch every layer's chunk of the current tokens
    const std::size_t layer_bytes = out.chunk[0] * l.head_count * (l.metric_type == ValueType::float16 ? 2 : 4);
    out.chunk_cache_bytes = std::max<std::size_t>(1 << 20, 4 * static_cast<std::size_t>(l.layer_count) * layer_bytes);
  }
  return out;
}

void StoreWriter::Impl::create_datasets() {
  const StoreLayout& l = layout;
  for (const auto& spec : sc::capture_datasets()) {
    if (!sc::is_present(spec, l)) continue;
    const std::string group = spec.repeat == sc::Repeat::once ? std::string(spec.path).substr(0, std::string(spec.path).rfind('/'))
                                                              : std::string(spec.path);
    if (!h5::link_exists(file, group)) h5::create_group(file, group, path);
    if (spec.rows == sc::RowAxis::fixed && spec.role == sc::Role::scale) continue;  // write_fixed_scales, below
    if (spec.rows == sc::RowAxis::fixed) {  // /attention/heads
      std::vector<std::int32_t> heads;
      for (const auto& head : l.pinned_heads) { heads.push_back(head.layer); heads.push_back(head.head); }
      h5::write_array(file, spec.path, H5T_STD_I32LE, H5T_NATIVE_INT32, {l.pinned_heads.size(), 2}, heads.data(), path,
                      {spec.dims.begin(), spec.dims.end()}, spec.units, spec.description);
      continue;
    }
    const auto names = sc::dataset_paths(spec, l);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const MetricSpec* metric = spec.repeat == sc::Repeat::per_metric ? &l.metrics[i] : nullptr;
      Id created = h5::create_extendible(file, extendible_spec(spec, names[i], l, metric), path);
      if (spec.type == sc::ElementType::text) h5::write_attribute(created, "_Encoding", std::string("utf-8"));  // xarray: str, not bytes
      if (spec.type == sc::ElementType::metric && l.mantissa_bits >= 0)
        h5::write_attribute(created, sc::kPrecision,
                            "lossy: values rounded to " + std::to_string(l.mantissa_bits) +
                                " mantissa bits (relative error <= 2^-" + std::to_string(l.mantissa_bits + 1) + ")");
      datasets.emplace(names[i], std::move(created));
    }
  }
  write_fixed_scales(file, l, path);
  attach_dimension_scales(file, l, path);
}

void StoreWriter::Impl::open_datasets() {
  for (const auto& spec : sc::capture_datasets())
    if (spec.rows != sc::RowAxis::fixed)
      for (const auto& name : sc::dataset_paths(spec, layout))
        if (spec.role == sc::Role::data || h5::link_exists(file, name))  // a store from before scales: none added
          datasets.emplace(name, h5::open_dataset(file, name, path));
}

// Rows [at, at + count) of a growing dimension scale (their own row numbers) or of a coordinate, when the
// store has it (one resumed from before scales has not).
void StoreWriter::Impl::write_optional(const char* name, hsize_t at, hsize_t count, const void* data) {
  if (datasets.count(name)) write(name, at, count, data);
}

StoreWriter::StoreWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreWriter::~StoreWriter() {
  try {
    close();
  } catch (...) {  // a destructor must not throw; every complete sample is already flushed
  }
}

static Id file_access_latest() {
  Id access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(access, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  return access;
}

std::unique_ptr<StoreWriter> StoreWriter::create(const std::string& path, const StoreLayout& layout,
                                                 const Provenance& provenance, bool overwrite) {
  h5::quiet_errors();
  if (layout.layer_count <= 0 || layout.head_count <= 0)
    throw StoreError(path + ": layout needs layer_count and head_count > 0");
  const int most_bits = layout.metric_type == ValueType::float16 ? 10 : 23;
  if (layout.mantissa_bits < -1 || layout.mantissa_bits > most_bits)
    throw StoreError(path + ": mantissa bits " + std::to_string(layout.mantissa_bits) + " outside 0.." +
                     std::to_string(most_bits) + " (or -1 for lossless)");
  for (std::size_t a = 0; a < layout.pinned_heads.size(); ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (layout.pinned_heads[a] == layout.pinned_heads[b])
        throw StoreError(path + ": head " + head_name(layout.pinned_heads[a]) + " is pinned twice");
  if (!overwrite && std::filesystem::exists(path))
    throw StoreError(path + ": file exists (use resume to continue it, or choose another name)");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->layout = layout;
  impl->lock = std::make_unique<WriterLock>(path);
  Id access = file_access_latest();
  impl->file = Id(h5::check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), path, "cannot create file"));
  write_root_attributes(impl->file, layout.kind, provenance.command_line, false);
  write_layout_attributes(impl->file, layout);
  write_provenance(impl->file, provenance, path);
  impl->create_datasets();
  h5::check_status(H5Fstart_swmr_write(impl->file), path, "cannot start single-writer/multiple-reader mode");
  return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(impl)));
}

// 3. Resume -------------------------------------------------------------------------------------------
// The committed extent of every row axis, from the last committed row of the columns that index it: a
// (start, length) pair per pool, so resume cuts each dataset back to exactly what committed samples use.
void StoreWriter::Impl::read_committed() {
  using R = sc::RowAxis;
  committed = committed_rows([this](const char* name) { return dataset(name); }, layout, path);
  const std::int64_t samples = committed[R::sample];
  if (samples == 0) return;
  // Ids, to let a resumed capture skip what is done.
  const hsize_t n = static_cast<hsize_t>(samples);
  std::vector<std::int64_t> id_starts(n);
  std::vector<std::int32_t> id_lengths(n);
  h5::read_slab(dataset(sc::kIdStart), H5T_NATIVE_INT64, {0}, {n}, id_starts.data(), path);
  h5::read_slab(dataset(sc::kIdLength), H5T_NATIVE_INT32, {0}, {n}, id_lengths.data(), path);
  std::vector<char> pool(static_cast<std::size_t>(committed[R::sample_text_byte]));
  if (!pool.empty()) h5::read_slab(dataset(sc::kSampleText), H5T_NATIVE_UINT8, {0}, {pool.size()}, pool.data(), path);
  for (hsize_t i = 0; i < n; ++i) ids.emplace_back(pool.data() + id_starts[i], id_lengths[i]);
}

// Cuts every dataset back to the last commit: rows past it belong to a sample that never finished.
void StoreWriter::Impl::trim_to_committed() {
  read_committed();
  for (const auto& spec : sc::capture_datasets())
    if (spec.rows != sc::RowAxis::fixed)
      for (const auto& name : sc::dataset_paths(spec, layout))
        h5::set_rows(dataset(name), static_cast<hsize_t>(committed[spec.rows]), path);
}

// A writer stopped by a full disk can leave the file shorter than the end of allocation its superblock
// records: HDF5 allocated the space, the write that would have filled it failed. HDF5 then refuses the file
// as truncated. Those bytes hold nothing a committed sample uses (its flush succeeded before), so the file
// is extended with zeros to that end. Superblock versions 2 and 3 (what this writer makes): the end of
// allocation is the little-endian 8-byte field at offset 28.
static void extend_to_end_of_allocation(const std::string& path) {
  unsigned char head[36];
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return;
  const bool whole = std::fread(head, 1, sizeof head, file) == sizeof head;
  std::fclose(file);
  if (!whole || std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) != 0 || head[8] < 2 || head[9] != 8) return;
  std::uint64_t end_of_allocation = 0;
  for (int i = 7; i >= 0; --i) end_of_allocation = (end_of_allocation << 8) | head[28 + i];
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || end_of_allocation <= size || end_of_allocation - size > (std::uint64_t{1} << 30)) return;
  if (::truncate(path.c_str(), static_cast<off_t>(end_of_allocation)) != 0)
    throw StoreError(path + ": cannot extend the file to its end of allocation (" + errno_text() + ")");
}

std::unique_ptr<StoreWriter> StoreWriter::resume(const std::string& path) {
  h5::quiet_errors();
  if (!std::filesystem::exists(path)) throw StoreError(path + ": no such file to resume");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw StoreError(path + ": not an HDF5 file, cannot resume");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->lock = std::make_unique<WriterLock>(path);
  extend_to_end_of_allocation(path);
  Id access = file_access_latest();
  hbool_t clear_flags = true;  // a killed SWMR writer leaves the superblock marked "open for writing"
  H5Pset(access, "clear_status_flags", &clear_flags);
  impl->file = Id(h5::check(H5Fopen(path.c_str(), H5F_ACC_RDWR, access), path, "cannot reopen for writing"));
  // A SWMR writer does not keep the superblock's end-of-allocation current, so after a kill it can lie
  // before chunks the writer placed (and readers read) near the end of the file. Left so, this writer would
  // fail to read them and, worse, allocate new chunks on top of them: move it to the real end of file first.
  h5::check_status(H5Fincrement_filesize(impl->file, 0), path, "cannot set the end of allocation to the end of file");
  impl->layout = read_layout(impl->file, path);
  impl->open_datasets();
  impl->trim_to_committed();
  h5::write_attribute(impl->file, sc::kComplete, std::int64_t{0});
  H5Fflush(impl->file, H5F_SCOPE_GLOBAL);
  h5::check_status(H5Fstart_swmr_write(impl->file), path, "cannot start single-writer/multiple-reader mode");
  return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(impl)));
}

// 4. Append ------------------------------------------------------------------------------------------
void StoreWriter::Impl::append(const SampleRecord& s) {
  if (closed) throw StoreError(path + ": append after close");
  validate(s);
  const std::string& ctx = path;
  using R = sc::RowAxis;
  std::int64_t &samples = committed[R::sample], &tokens = committed[R::token], &embeddings = committed[R::span];
  std::int64_t &sample_text_bytes = committed[R::sample_text_byte], &token_text_bytes = committed[R::token_text_byte];
  std::int64_t &label_text_bytes = committed[R::label_text_byte], &attention_values = committed[R::attention_value];
  const hsize_t n = s.tokens.size();
  const hsize_t at_token = static_cast<hsize_t>(tokens), at_sample = static_cast<hsize_t>(samples);
  const std::size_t L = static_cast<std::size_t>(layout.layer_count), H = static_cast<std::size_t>(layout.head_count);

  // Tokens and their display text.
  write(sc::kTokenIds, at_token, n, s.tokens.data());
  std::vector<std::int64_t> text_start(n);
  std::vector<std::int32_t> text_length(n);
  std::string text_pool;
  for (hsize_t i = 0; i < n; ++i) {
    const std::string piece = s.token_text.empty() ? std::string() : s.token_text[i];
    text_start[i] = token_text_bytes + static_cast<std::int64_t>(text_pool.size());
    text_length[i] = static_cast<std::int32_t>(piece.size());
    text_pool += piece;
  }
  write(sc::kTokenTextStart, at_token, n, text_start.data());
  write(sc::kTokenTextLength, at_token, n, text_length.data());
  write(sc::kTokenText, static_cast<hsize_t>(token_text_bytes), text_pool.size(),
                 text_pool.data());

  // Metrics and their per-sample means.
  std::vector<std::uint16_t> halves;
  std::vector<float> rounded;
  std::vector<float> means(L * H);  // of the values as given: the summaries are not rounded
  const int mantissa_bits = layout.mantissa_bits < 0 ? 10 : layout.mantissa_bits;
  for (std::size_t m = 0; m < layout.metrics.size(); ++m) {
    const auto& values = s.metrics[m];
    if (layout.metric_type == ValueType::float16) {
      halves.resize(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) halves[i] = round_half_mantissa(float_to_half(values[i]), mantissa_bits);
      write(metric_path(m), sc::ElementType::metric, at_token, n, halves.data());
    } else if (layout.mantissa_bits >= 0) {
      rounded.resize(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) rounded[i] = round_float_mantissa(values[i], layout.mantissa_bits);
      write(metric_path(m), sc::ElementType::float32, at_token, n, rounded.data());
    } else {
      write(metric_path(m), sc::ElementType::float32, at_token, n, values.data());
    }
    std::vector<double> sum(L * H, 0.0);
    std::vector<std::int32_t> count(L * H, 0);
    for (hsize_t t = 0; t < n; ++t)
      for (std::size_t j = 0; j < L * H; ++j) {
        const float v = values[t * L * H + j];
        if (std::isfinite(v)) { sum[j] += v; ++count[j]; }
      }
    for (std::size_t j = 0; j < L * H; ++j)
      means[j] = count[j] ? static_cast<float>(sum[j] / count[j]) : std::numeric_limits<float>::quiet_NaN();
    write(summary_path(m), sc::ElementType::float32, at_sample, 1, means.data());
  }

  if (layout.flow_size > 0) {
    write(sc::kFlowPositions, at_sample, 1, s.flow_positions.data());
    write(sc::kFlowMatrices, at_sample, 1, s.flow.data());
  }
  if (!layout.pinned_heads.empty()) {
    for (std::size_t p = 0; p < layout.pinned_heads.size(); ++p)
      write(attention_path(p), sc::ElementType::float32, static_cast<hsize_t>(attention_values), n * n,
            s.pinned_attention[p].data());
    write(sc::kAttentionOffset, at_sample, 1, &attention_values);
  }

  const auto& e = s.embeddings;
  const hsize_t spans = e.span_start.size();
  if (spans > 0) {
    const hsize_t at_span = static_cast<hsize_t>(embeddings);
    write(sc::kEmbeddingVectors, at_span, spans, e.vectors.data());
    std::vector<std::int64_t> owner(spans, samples), label_start(spans);
    std::vector<std::int32_t> label_length(spans);
    std::string label_pool;
    for (hsize_t i = 0; i < spans; ++i) {
      label_start[i] = label_text_bytes + static_cast<std::int64_t>(label_pool.size());
      label_length[i] = static_cast<std::int32_t>(e.labels[i].size());
      label_pool += e.labels[i];
    }
    write(sc::kEmbeddingSample, at_span, spans, owner.data());
    write(sc::kEmbeddingSpanStart, at_span, spans, e.span_start.data());
    write(sc::kEmbeddingSpanEnd, at_span, spans, e.span_end.data());
    write(sc::kEmbeddingLabelStart, at_span, spans, label_start.data());
    write(sc::kEmbeddingLabelLength, at_span, spans, label_length.data());
    write(sc::kEmbeddingLabelText, static_cast<hsize_t>(label_text_bytes),
                   label_pool.size(), label_pool.data());
    label_text_bytes += static_cast<std::int64_t>(label_pool.size());
  }

  // Dimension scales and coordinates (dimension_scales.h).
  {
    // Growing scales: this sample's row numbers on their axis.
    RowCounts added;
    added[R::token] = static_cast<std::int64_t>(n);
    added[R::sample] = 1;
    added[R::span] = static_cast<std::int64_t>(spans);
    std::vector<std::int64_t> rows;
    for (const auto& spec : sc::capture_datasets()) {
      if (spec.role != sc::Role::scale || spec.rows == R::fixed || !datasets.count(spec.path) || added[spec.rows] == 0) continue;
      rows.resize(static_cast<std::size_t>(added[spec.rows]));
      std::iota(rows.begin(), rows.end(), committed[spec.rows]);
      write(spec.path, static_cast<hsize_t>(committed[spec.rows]), rows.size(), rows.data());
    }
    std::vector<std::int64_t> token_sample(n, samples);
    std::vector<std::int32_t> position(n);
    std::iota(position.begin(), position.end(), 0);
    write_optional("/metrics/token_sample", at_token, n, token_sample.data());
    write_optional("/metrics/token_position", at_token, n, position.data());
    const auto& text_spec = sc::dataset_spec("/metrics/token_text");
    std::vector<std::string> pieces(n);
    for (hsize_t i = 0; i < n && !s.token_text.empty(); ++i) pieces[i] = s.token_text[i];
    write_optional(text_spec.path, at_token, n, pack_text(pieces, text_spec.text_bytes).data());
    write_optional("/summaries/sample_id", at_sample, 1, pack_text({s.id}, sc::dataset_spec("/summaries/sample_id").text_bytes).data());
    const std::int32_t level = decode_sample_facts(s.metadata_json).level.value_or(-1);
    write_optional("/summaries/level", at_sample, 1, &level);
    write_optional("/summaries/prompt_length", at_sample, 1, &s.prompt_length);
    if (spans > 0) {
      std::vector<std::uint8_t> generated(spans, 0);  // 1 byte a span, small chunks: a store grows by little
      for (std::size_t i = 0; i < std::min<std::size_t>(spans, s.embeddings.generated.size()); ++i)
        generated[i] = s.embeddings.generated[i] ? 1 : 0;
      write_optional("/embeddings/generated", static_cast<hsize_t>(embeddings), spans, generated.data());
    }
    // Dimensions without values grow with their axis; nothing is written into them.
    RowCounts after = committed;  // its label bytes were advanced with the embeddings above
    after[R::token_text_byte] += static_cast<std::int64_t>(text_pool.size());
    after[R::sample_text_byte] += static_cast<std::int64_t>(s.id.size() + s.metadata_json.size());
    if (!layout.pinned_heads.empty()) after[R::attention_value] += static_cast<std::int64_t>(n * n);
    for (const auto& spec : sc::capture_datasets())
      if (spec.role == sc::Role::dimension && datasets.count(spec.path))
        h5::set_rows(dataset(spec.path), static_cast<hsize_t>(after[spec.rows]), ctx);
  }

  // Per-sample columns; token_start last: once it is on disk, the sample is committed.
  const std::string sample_text = s.id + s.metadata_json;
  const std::int64_t id_start = sample_text_bytes, metadata_start = sample_text_bytes + static_cast<std::int64_t>(s.id.size());
  const std::int32_t id_length = static_cast<std::int32_t>(s.id.size());
  const std::int32_t metadata_length = static_cast<std::int32_t>(s.metadata_json.size());
  const std::int32_t token_count = static_cast<std::int32_t>(n);
  const std::int64_t embedding_start = embeddings;
  const std::int32_t embedding_count = static_cast<std::int32_t>(spans);
  write(sc::kSampleText, static_cast<hsize_t>(sample_text_bytes), sample_text.size(),
                 sample_text.data());
  write(sc::kIdStart, at_sample, 1, &id_start);
  write(sc::kIdLength, at_sample, 1, &id_length);
  write(sc::kMetadataStart, at_sample, 1, &metadata_start);
  write(sc::kMetadataLength, at_sample, 1, &metadata_length);
  write(sc::kEmbeddingStart, at_sample, 1, &embedding_start);
  write(sc::kEmbeddingCount, at_sample, 1, &embedding_count);
  write(sc::kPromptLength, at_sample, 1, &s.prompt_length);
  write(sc::kTokenCount, at_sample, 1, &token_count);
  // Everything of the sample reaches the file before the row that commits it.
  h5::check_status(H5Fflush(file, H5F_SCOPE_LOCAL), ctx, "cannot flush");
  const std::int64_t token_start = tokens;
  write(sc::kTokenStart, at_sample, 1, &token_start);
  h5::check_status(H5Fflush(file, H5F_SCOPE_LOCAL), ctx, "cannot flush");

  samples += 1;
  tokens += static_cast<std::int64_t>(n);
  token_text_bytes += static_cast<std::int64_t>(text_pool.size());
  sample_text_bytes += static_cast<std::int64_t>(sample_text.size());
  embeddings += static_cast<std::int64_t>(spans);
  if (!layout.pinned_heads.empty()) attention_values += static_cast<std::int64_t>(n * n);
  ids.push_back(s.id);
}

void StoreWriter::append(const SampleRecord& sample) { impl_->append(sample); }
std::int64_t StoreWriter::sample_count() const { return impl_->committed[sc::RowAxis::sample]; }
std::int64_t StoreWriter::token_count() const { return impl_->committed[sc::RowAxis::token]; }
const StoreLayout& StoreWriter::layout() const { return impl_->layout; }
const std::string& StoreWriter::path() const { return impl_->path; }
std::vector<std::string> StoreWriter::sample_ids() const { return impl_->ids; }
Provenance StoreWriter::provenance() const { return read_provenance(impl_->file, impl_->path); }

void StoreWriter::close(bool complete) {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  impl_->datasets.clear();
  impl_->file.reset();
  if (complete) {  // SWMR mode cannot write attributes; reopen briefly to mark the file complete
    try {
      Id access = file_access_latest();
      Id file(h5::check(H5Fopen(impl_->path.c_str(), H5F_ACC_RDWR, access), impl_->path,
                        "cannot reopen to mark the store complete (it stays resumable)"));
      h5::write_attribute(file, sc::kComplete, std::int64_t{1});
    } catch (...) {  // every sample is committed; the file stays as an interrupted one, which --resume completes
      impl_->lock->release();
      throw;
    }
  }
  impl_->lock->release();
}

void StoreWriter::abandon() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  // Deliberately leaked: their destructors would close the file, flushing HDF5's cache into the failed
  // file. The process ends soon after (a capture that failed); the file is as a killed writer leaves it.
  new std::map<std::string, Id>(std::move(impl_->datasets));
  new Id(std::move(impl_->file));
  impl_->lock->release();
}

}  // namespace headscope::store
