// StoreWriter (see writer.h). Sections:
//   1. validation of a SampleRecord against the layout
//   2. creating a new file: root attributes, provenance, every dataset (SWMR cannot add them later)
//   3. reopening for resume: clear the killed writer's status flags, trim rows past the last commit
//   4. append: data first, the /samples/token_start row last, then a flush (the commit point)
#include "core/store/writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <filesystem>
#include <map>

#include "core/store/h5.h"
#include "core/store/schema.h"
#include "core/util/half.h"
#include "core/util/time.h"
#include "core/version.h"

namespace headscope::store {

namespace sc = schema;
using h5::Id;

namespace {

// The flock on "<file>.writer-lock" that marks a live writer (see schema.h).
class WriterLock {
 public:
  explicit WriterLock(const std::string& path) : lock_path_(path + sc::kWriterLockSuffix) {
    fd_ = ::open(lock_path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) throw StoreError(path + ": cannot create the writer lock " + lock_path_);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw StoreError(path + ": another process is writing this file");
    }
  }
  ~WriterLock() { release(); }
  void release() {
    if (fd_ >= 0) {
      ::unlink(lock_path_.c_str());
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------
struct StoreWriter::Impl {
  std::string path;
  StoreLayout layout;
  std::unique_ptr<WriterLock> lock;
  Id file;
  // Datasets kept open for appends.
  std::map<std::string, Id> datasets;
  std::vector<Id> metric_sets, summary_sets, attention_sets;
  // Committed sizes.
  std::int64_t samples = 0, tokens = 0, sample_text_bytes = 0, token_text_bytes = 0;
  std::int64_t embeddings = 0, label_text_bytes = 0, attention_values = 0;
  std::vector<std::string> ids;
  bool closed = false;

  hid_t dataset(const char* name) { return datasets.at(name); }
  std::string context() const { return path; }

  void validate(const SampleRecord& s) const;
  void create_datasets(const StoreLayout& l);
  void open_datasets();
  void trim_to_committed();
  void append(const SampleRecord& s);
};

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
void StoreWriter::Impl::create_datasets(const StoreLayout& l) {
  const std::string& ctx = path;
  auto add = [&](h5::ExtendibleSpec spec) {
    std::string name = spec.name;
    datasets.emplace(name, h5::create_extendible(file, spec, ctx));
  };
  const hsize_t L = static_cast<hsize_t>(l.layer_count), H = static_cast<hsize_t>(l.head_count);
  for (const char* group : {sc::kSamples, sc::kTokens, sc::kMetrics, sc::kSummaries})
    h5::create_group(file, group, ctx);

  // Columns and text pools are stored without compression: an uncompressed chunk is rewritten in place
  // when the next sample lands in it, so a writer killed mid-append cannot take committed bytes with it
  // (a compressed chunk is relocated, and a kill between its index and its data loses the whole chunk).
  add({sc::kTokenStart, H5T_STD_I64LE, {}, {1024}, 0, {"sample"}, "tokens",
       "offset of the sample's first token on the flat token axis; its length is the committed sample count"});
  add({sc::kTokenCount, H5T_STD_I32LE, {}, {1024}, 0, {"sample"}, "tokens", "tokens in the sample"});
  add({sc::kPromptLength, H5T_STD_I32LE, {}, {1024}, 0, {"sample"}, "tokens",
       "tokens before generation began (equal to token_count for teacher-forced samples)"});
  add({sc::kIdStart, H5T_STD_I64LE, {}, {1024}, 0, {"sample"}, "bytes", "offset of the sample id in /samples/text"});
  add({sc::kIdLength, H5T_STD_I32LE, {}, {1024}, 0, {"sample"}, "bytes", "length of the sample id (UTF-8)"});
  add({sc::kMetadataStart, H5T_STD_I64LE, {}, {1024}, 0, {"sample"}, "bytes",
       "offset of the sample's metadata JSON in /samples/text"});
  add({sc::kMetadataLength, H5T_STD_I32LE, {}, {1024}, 0, {"sample"}, "bytes", "length of the metadata JSON"});
  add({sc::kEmbeddingStart, H5T_STD_I64LE, {}, {1024}, 0, {"sample"}, "spans",
       "first row of the sample's step embeddings in /embeddings"});
  add({sc::kEmbeddingCount, H5T_STD_I32LE, {}, {1024}, 0, {"sample"}, "spans", "step embeddings of the sample"});
  add({sc::kSampleText, H5T_STD_U8LE, {}, {65536}, 0, {"byte"}, "", "UTF-8 pool of sample ids and metadata JSON"});

  add({sc::kTokenIds, H5T_STD_I32LE, {}, {16384}, 0, {"token"}, "", "token ids of every sample, concatenated"});
  add({sc::kTokenTextStart, H5T_STD_I64LE, {}, {16384}, 0, {"token"}, "bytes", "offset of the token's text in /tokens/text"});
  add({sc::kTokenTextLength, H5T_STD_I32LE, {}, {16384}, 0, {"token"}, "bytes", "length of the token's display text"});
  add({sc::kTokenText, H5T_STD_U8LE, {}, {65536}, 0, {"byte"}, "", "UTF-8 pool of token display texts"});

  const hid_t metric_type = l.metric_type == ValueType::float16 ? h5::float16_type() : H5T_IEEE_F32LE;
  const hsize_t chunk_tokens = static_cast<hsize_t>(std::max(1, l.chunk_tokens));
  const std::size_t chunk_bytes = chunk_tokens * H * (l.metric_type == ValueType::float16 ? 2 : 4);
  for (const auto& metric : l.metrics) {
    h5::ExtendibleSpec spec{std::string(sc::kMetrics) + "/" + metric.name, metric_type, {L, H}, {chunk_tokens, 1, H},
                            l.deflate_level, {"token", "layer", "head"}, metric.units, metric.description,
                            std::max<std::size_t>(1 << 20, 4 * L * chunk_bytes)};
    metric_sets.push_back(h5::create_extendible(file, spec, ctx));
    if (l.mantissa_bits >= 0)
      h5::write_attribute(metric_sets.back(), "precision",
                          "lossy: values rounded to " + std::to_string(l.mantissa_bits) +
                              " mantissa bits (relative error <= 2^-" + std::to_string(l.mantissa_bits + 1) + ")");
    h5::ExtendibleSpec summary{std::string(sc::kSummaries) + "/" + metric.name, H5T_IEEE_F32LE, {L, H}, {1, L, H},
                               l.deflate_level, {"sample", "layer", "head"}, metric.units,
                               "mean over the sample's tokens (NaN skipped) of: " + metric.description};
    summary_sets.push_back(h5::create_extendible(file, summary, ctx));
  }
  if (l.flow_size > 0) {
    const hsize_t K = static_cast<hsize_t>(l.flow_size);
    h5::create_group(file, sc::kFlow, ctx);
    add({sc::kFlowPositions, H5T_STD_I32LE, {K}, {256, K}, 0, {"sample", "position"}, "token index",
         "token positions that index the flow matrices' rows and columns"});
    add({sc::kFlowMatrices, H5T_IEEE_F32LE, {L, H, K, K}, {1, L, H, K, K}, l.deflate_level,
         {"sample", "layer", "head", "attending", "attended"}, "probability",
         "attention among the flow positions: row = attending position, column = attended position"});
  }
  if (!l.pinned_heads.empty()) {
    Id group = h5::create_group(file, sc::kAttention, ctx);
    std::vector<std::int32_t> heads;
    for (const auto& head : l.pinned_heads) { heads.push_back(head.layer); heads.push_back(head.head); }
    h5::write_array(file, sc::kAttentionHeads, H5T_STD_I32LE, H5T_NATIVE_INT32, {l.pinned_heads.size(), 2}, heads.data(),
                    ctx, {"pinned", "layer_head"}, "", "the pinned heads as (layer, head) rows");
    add({sc::kAttentionOffset, H5T_STD_I64LE, {}, {1024}, 0, {"sample"}, "values",
         "offset of the sample's [query, key] matrix (token_count^2 values) in each /attention/L*H* array"});
    for (const auto& head : l.pinned_heads) {
      h5::ExtendibleSpec spec{std::string(sc::kAttention) + "/" + head_name(head), H5T_IEEE_F32LE, {}, {65536},
                              l.deflate_level, {"value"}, "probability",
                              "full attention of this head, each sample a row-major [query, key] block at its offset"};
      attention_sets.push_back(h5::create_extendible(file, spec, ctx));
    }
  }
  if (l.embedding_dim > 0) {
    const hsize_t D = static_cast<hsize_t>(l.embedding_dim);
    h5::create_group(file, sc::kEmbeddings, ctx);
    add({sc::kEmbeddingVectors, H5T_IEEE_F32LE, {D}, {std::max<hsize_t>(1, 65536 / D), D}, l.deflate_level,
         {"span", "feature"}, "", "mean hidden state over each labelled span"});
    add({sc::kEmbeddingSample, H5T_STD_I64LE, {}, {4096}, 0, {"span"}, "", "sample index of the span"});
    add({sc::kEmbeddingSpanStart, H5T_STD_I32LE, {}, {4096}, 0, {"span"}, "tokens", "first token of the span (sample-relative)"});
    add({sc::kEmbeddingSpanEnd, H5T_STD_I32LE, {}, {4096}, 0, {"span"}, "tokens", "one past the last token of the span"});
    add({sc::kEmbeddingLabelStart, H5T_STD_I64LE, {}, {4096}, 0, {"span"}, "bytes", "offset of the label in label_text"});
    add({sc::kEmbeddingLabelLength, H5T_STD_I32LE, {}, {4096}, 0, {"span"}, "bytes", "length of the label"});
    add({sc::kEmbeddingLabelText, H5T_STD_U8LE, {}, {16384}, 0, {"byte"}, "", "UTF-8 pool of span labels"});
  }
}

void StoreWriter::Impl::open_datasets() {
  const std::string& ctx = path;
  for (const char* name : {sc::kTokenStart, sc::kTokenCount, sc::kPromptLength, sc::kIdStart, sc::kIdLength,
                           sc::kMetadataStart, sc::kMetadataLength, sc::kEmbeddingStart, sc::kEmbeddingCount,
                           sc::kSampleText, sc::kTokenIds, sc::kTokenTextStart, sc::kTokenTextLength, sc::kTokenText})
    datasets.emplace(name, h5::open_dataset(file, name, ctx));
  for (const auto& metric : layout.metrics) {
    metric_sets.push_back(h5::open_dataset(file, std::string(sc::kMetrics) + "/" + metric.name, ctx));
    summary_sets.push_back(h5::open_dataset(file, std::string(sc::kSummaries) + "/" + metric.name, ctx));
  }
  if (layout.flow_size > 0)
    for (const char* name : {sc::kFlowPositions, sc::kFlowMatrices}) datasets.emplace(name, h5::open_dataset(file, name, ctx));
  if (!layout.pinned_heads.empty()) {
    datasets.emplace(sc::kAttentionOffset, h5::open_dataset(file, sc::kAttentionOffset, ctx));
    for (const auto& head : layout.pinned_heads)
      attention_sets.push_back(h5::open_dataset(file, std::string(sc::kAttention) + "/" + head_name(head), ctx));
  }
  if (layout.embedding_dim > 0)
    for (const char* name : {sc::kEmbeddingVectors, sc::kEmbeddingSample, sc::kEmbeddingSpanStart, sc::kEmbeddingSpanEnd,
                             sc::kEmbeddingLabelStart, sc::kEmbeddingLabelLength, sc::kEmbeddingLabelText})
      datasets.emplace(name, h5::open_dataset(file, name, ctx));
}

static void write_provenance(hid_t file, const StoreLayout& l, const Provenance& p, const std::string& ctx) {
  h5::write_attribute(file, sc::kFormat, std::string(kFormatName));
  h5::write_attribute(file, sc::kSchemaVersion, static_cast<std::int64_t>(kSchemaVersion));
  h5::write_attribute(file, sc::kKind, std::string(run_kind_name(l.kind)));
  h5::write_attribute(file, sc::kCreated, headscope::utc_now_iso());
  h5::write_attribute(file, sc::kToolVersion, std::string(HEADSCOPE_VERSION));
  h5::write_attribute(file, sc::kCommandLine, p.command_line);
  h5::write_attribute(file, sc::kComplete, std::int64_t{0});
  h5::write_attribute(file, "layer_count", static_cast<std::int64_t>(l.layer_count));
  h5::write_attribute(file, "head_count", static_cast<std::int64_t>(l.head_count));
  h5::write_attribute(file, "flow_size", static_cast<std::int64_t>(l.flow_size));
  h5::write_attribute(file, "embedding_dim", static_cast<std::int64_t>(l.embedding_dim));
  h5::write_attribute(file, "metric_type", std::string(l.metric_type == ValueType::float16 ? "float16" : "float32"));
  h5::write_attribute(file, "chunk_tokens", static_cast<std::int64_t>(l.chunk_tokens));
  h5::write_attribute(file, "deflate_level", static_cast<std::int64_t>(l.deflate_level));
  h5::write_attribute(file, "metric_mantissa_bits", static_cast<std::int64_t>(l.mantissa_bits));
  std::vector<std::string> names;
  for (const auto& m : l.metrics) names.push_back(m.name);
  h5::write_attribute(file, "metrics", names);

  Id model = h5::create_group(file, sc::kModel, ctx);
  h5::write_attribute(model, "name", p.model_name);
  h5::write_attribute(model, "path", p.model_path);
  h5::write_string_dataset(model, "config_json", p.model_config_json.empty() ? "{}" : p.model_config_json, ctx);
  h5::write_array(model, "tokenizer", H5T_STD_U8LE, H5T_NATIVE_UINT8, {p.tokenizer_bytes.size()},
                  p.tokenizer_bytes.data(), ctx, {"byte"}, "", "the tokenizer file, verbatim");
  Id tokenizer = h5::open_dataset(model, "tokenizer", ctx);
  h5::write_attribute(tokenizer, "format", p.tokenizer_format);
  Id run = h5::create_group(file, sc::kRun, ctx);
  h5::write_string_dataset(run, "settings_json", p.settings_json.empty() ? "{}" : p.settings_json, ctx);
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
  if (!overwrite && std::filesystem::exists(path))
    throw StoreError(path + ": file exists (use resume to continue it, or choose another name)");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->layout = layout;
  impl->lock = std::make_unique<WriterLock>(path);
  Id access = file_access_latest();
  impl->file = Id(h5::check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), path, "cannot create file"));
  write_provenance(impl->file, layout, provenance, path);
  impl->create_datasets(layout);
  h5::check_status(H5Fstart_swmr_write(impl->file), path, "cannot start single-writer/multiple-reader mode");
  return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(impl)));
}

// 3. Resume -------------------------------------------------------------------------------------------
template <typename T>
static T read_one(hid_t dataset, hid_t memory_type, hsize_t row, const std::string& ctx) {
  T value{};
  h5::read_slab(dataset, memory_type, {row}, {1}, &value, ctx);
  return value;
}

void StoreWriter::Impl::trim_to_committed() {
  const std::string& ctx = path;
  samples = static_cast<std::int64_t>(h5::extent0(dataset(sc::kTokenStart)));
  if (samples > 0) {
    const hsize_t last = static_cast<hsize_t>(samples - 1);
    auto start = read_one<std::int64_t>(dataset(sc::kTokenStart), H5T_NATIVE_INT64, last, ctx + " " + sc::kTokenStart);
    auto count = read_one<std::int32_t>(dataset(sc::kTokenCount), H5T_NATIVE_INT32, last, ctx + " " + sc::kTokenCount);
    tokens = start + count;
    auto meta_start = read_one<std::int64_t>(dataset(sc::kMetadataStart), H5T_NATIVE_INT64, last, ctx + " " + sc::kMetadataStart);
    auto meta_length = read_one<std::int32_t>(dataset(sc::kMetadataLength), H5T_NATIVE_INT32, last, ctx + " " + sc::kMetadataLength);
    sample_text_bytes = meta_start + meta_length;
    auto text_start = read_one<std::int64_t>(dataset(sc::kTokenTextStart), H5T_NATIVE_INT64, tokens - 1, ctx + " " + sc::kTokenTextStart);
    auto text_length = read_one<std::int32_t>(dataset(sc::kTokenTextLength), H5T_NATIVE_INT32, tokens - 1, ctx + " " + sc::kTokenTextLength);
    token_text_bytes = text_start + text_length;
    auto emb_start = read_one<std::int64_t>(dataset(sc::kEmbeddingStart), H5T_NATIVE_INT64, last, ctx + " " + sc::kEmbeddingStart);
    auto emb_count = read_one<std::int32_t>(dataset(sc::kEmbeddingCount), H5T_NATIVE_INT32, last, ctx + " " + sc::kEmbeddingCount);
    embeddings = emb_start + emb_count;
    if (layout.embedding_dim > 0 && embeddings > 0) {
      auto label_start = read_one<std::int64_t>(dataset(sc::kEmbeddingLabelStart), H5T_NATIVE_INT64, embeddings - 1, ctx + " " + sc::kEmbeddingLabelStart);
      auto label_length = read_one<std::int32_t>(dataset(sc::kEmbeddingLabelLength), H5T_NATIVE_INT32, embeddings - 1, ctx + " " + sc::kEmbeddingLabelLength);
      label_text_bytes = label_start + label_length;
    }
    if (!layout.pinned_heads.empty()) {
      auto offset = read_one<std::int64_t>(dataset(sc::kAttentionOffset), H5T_NATIVE_INT64, last, ctx + " " + sc::kAttentionOffset);
      attention_values = offset + static_cast<std::int64_t>(count) * count;
    }
    // Ids, to let a resumed capture skip what is done.
    std::vector<std::int64_t> id_starts(samples);
    std::vector<std::int32_t> id_lengths(samples);
    h5::read_slab(dataset(sc::kIdStart), H5T_NATIVE_INT64, {0}, {static_cast<hsize_t>(samples)}, id_starts.data(), ctx);
    h5::read_slab(dataset(sc::kIdLength), H5T_NATIVE_INT32, {0}, {static_cast<hsize_t>(samples)}, id_lengths.data(), ctx);
    std::vector<char> pool(static_cast<std::size_t>(sample_text_bytes));
    if (sample_text_bytes > 0)
      h5::read_slab(dataset(sc::kSampleText), H5T_NATIVE_UINT8, {0}, {static_cast<hsize_t>(sample_text_bytes)}, pool.data(), ctx);
    for (std::int64_t i = 0; i < samples; ++i) ids.emplace_back(pool.data() + id_starts[i], id_lengths[i]);
  }
  // Cut every dataset back to the last commit: rows past it belong to a sample that never finished.
  for (const char* name : {sc::kTokenCount, sc::kPromptLength, sc::kIdStart, sc::kIdLength, sc::kMetadataStart,
                           sc::kMetadataLength, sc::kEmbeddingStart, sc::kEmbeddingCount})
    h5::set_rows(dataset(name), static_cast<hsize_t>(samples), ctx);
  h5::set_rows(dataset(sc::kSampleText), static_cast<hsize_t>(sample_text_bytes), ctx);
  for (const char* name : {sc::kTokenIds, sc::kTokenTextStart, sc::kTokenTextLength})
    h5::set_rows(dataset(name), static_cast<hsize_t>(tokens), ctx);
  h5::set_rows(dataset(sc::kTokenText), static_cast<hsize_t>(token_text_bytes), ctx);
  for (auto& set : metric_sets) h5::set_rows(set, static_cast<hsize_t>(tokens), ctx);
  for (auto& set : summary_sets) h5::set_rows(set, static_cast<hsize_t>(samples), ctx);
  if (layout.flow_size > 0)
    for (const char* name : {sc::kFlowPositions, sc::kFlowMatrices}) h5::set_rows(dataset(name), static_cast<hsize_t>(samples), ctx);
  if (!layout.pinned_heads.empty()) {
    h5::set_rows(dataset(sc::kAttentionOffset), static_cast<hsize_t>(samples), ctx);
    for (auto& set : attention_sets) h5::set_rows(set, static_cast<hsize_t>(attention_values), ctx);
  }
  if (layout.embedding_dim > 0) {
    for (const char* name : {sc::kEmbeddingVectors, sc::kEmbeddingSample, sc::kEmbeddingSpanStart, sc::kEmbeddingSpanEnd,
                             sc::kEmbeddingLabelStart, sc::kEmbeddingLabelLength})
      h5::set_rows(dataset(name), static_cast<hsize_t>(embeddings), ctx);
    h5::set_rows(dataset(sc::kEmbeddingLabelText), static_cast<hsize_t>(label_text_bytes), ctx);
  }
}

StoreLayout read_layout(hid_t file, const std::string& path);  // reader.cpp

std::unique_ptr<StoreWriter> StoreWriter::resume(const std::string& path) {
  h5::quiet_errors();
  if (!std::filesystem::exists(path)) throw StoreError(path + ": no such file to resume");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw StoreError(path + ": not an HDF5 file, cannot resume");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->lock = std::make_unique<WriterLock>(path);
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
  const hsize_t n = s.tokens.size();
  const hsize_t at_token = static_cast<hsize_t>(tokens), at_sample = static_cast<hsize_t>(samples);
  const std::size_t L = static_cast<std::size_t>(layout.layer_count), H = static_cast<std::size_t>(layout.head_count);

  // Tokens and their display text.
  h5::write_rows(dataset(sc::kTokenIds), H5T_NATIVE_INT32, at_token, n, s.tokens.data(), ctx);
  std::vector<std::int64_t> text_start(n);
  std::vector<std::int32_t> text_length(n);
  std::string text_pool;
  for (hsize_t i = 0; i < n; ++i) {
    const std::string piece = s.token_text.empty() ? std::string() : s.token_text[i];
    text_start[i] = token_text_bytes + static_cast<std::int64_t>(text_pool.size());
    text_length[i] = static_cast<std::int32_t>(piece.size());
    text_pool += piece;
  }
  h5::write_rows(dataset(sc::kTokenTextStart), H5T_NATIVE_INT64, at_token, n, text_start.data(), ctx);
  h5::write_rows(dataset(sc::kTokenTextLength), H5T_NATIVE_INT32, at_token, n, text_length.data(), ctx);
  h5::write_rows(dataset(sc::kTokenText), H5T_NATIVE_UINT8, static_cast<hsize_t>(token_text_bytes), text_pool.size(),
                 text_pool.data(), ctx);

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
      h5::write_rows(metric_sets[m], h5::float16_type(), at_token, n, halves.data(), ctx);
    } else if (layout.mantissa_bits >= 0) {
      rounded.resize(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) rounded[i] = round_float_mantissa(values[i], layout.mantissa_bits);
      h5::write_rows(metric_sets[m], H5T_NATIVE_FLOAT, at_token, n, rounded.data(), ctx);
    } else {
      h5::write_rows(metric_sets[m], H5T_NATIVE_FLOAT, at_token, n, values.data(), ctx);
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
    h5::write_rows(summary_sets[m], H5T_NATIVE_FLOAT, at_sample, 1, means.data(), ctx);
  }

  if (layout.flow_size > 0) {
    h5::write_rows(dataset(sc::kFlowPositions), H5T_NATIVE_INT32, at_sample, 1, s.flow_positions.data(), ctx);
    h5::write_rows(dataset(sc::kFlowMatrices), H5T_NATIVE_FLOAT, at_sample, 1, s.flow.data(), ctx);
  }
  if (!layout.pinned_heads.empty()) {
    for (std::size_t p = 0; p < attention_sets.size(); ++p)
      h5::write_rows(attention_sets[p], H5T_NATIVE_FLOAT, static_cast<hsize_t>(attention_values), n * n,
                     s.pinned_attention[p].data(), ctx);
    h5::write_rows(dataset(sc::kAttentionOffset), H5T_NATIVE_INT64, at_sample, 1, &attention_values, ctx);
  }

  const auto& e = s.embeddings;
  const hsize_t spans = e.span_start.size();
  if (spans > 0) {
    const hsize_t at_span = static_cast<hsize_t>(embeddings);
    h5::write_rows(dataset(sc::kEmbeddingVectors), H5T_NATIVE_FLOAT, at_span, spans, e.vectors.data(), ctx);
    std::vector<std::int64_t> owner(spans, samples), label_start(spans);
    std::vector<std::int32_t> label_length(spans);
    std::string label_pool;
    for (hsize_t i = 0; i < spans; ++i) {
      label_start[i] = label_text_bytes + static_cast<std::int64_t>(label_pool.size());
      label_length[i] = static_cast<std::int32_t>(e.labels[i].size());
      label_pool += e.labels[i];
    }
    h5::write_rows(dataset(sc::kEmbeddingSample), H5T_NATIVE_INT64, at_span, spans, owner.data(), ctx);
    h5::write_rows(dataset(sc::kEmbeddingSpanStart), H5T_NATIVE_INT32, at_span, spans, e.span_start.data(), ctx);
    h5::write_rows(dataset(sc::kEmbeddingSpanEnd), H5T_NATIVE_INT32, at_span, spans, e.span_end.data(), ctx);
    h5::write_rows(dataset(sc::kEmbeddingLabelStart), H5T_NATIVE_INT64, at_span, spans, label_start.data(), ctx);
    h5::write_rows(dataset(sc::kEmbeddingLabelLength), H5T_NATIVE_INT32, at_span, spans, label_length.data(), ctx);
    h5::write_rows(dataset(sc::kEmbeddingLabelText), H5T_NATIVE_UINT8, static_cast<hsize_t>(label_text_bytes),
                   label_pool.size(), label_pool.data(), ctx);
    label_text_bytes += static_cast<std::int64_t>(label_pool.size());
  }

  // Per-sample columns; token_start last: once it is on disk, the sample is committed.
  const std::string sample_text = s.id + s.metadata_json;
  const std::int64_t id_start = sample_text_bytes, metadata_start = sample_text_bytes + static_cast<std::int64_t>(s.id.size());
  const std::int32_t id_length = static_cast<std::int32_t>(s.id.size());
  const std::int32_t metadata_length = static_cast<std::int32_t>(s.metadata_json.size());
  const std::int32_t token_count = static_cast<std::int32_t>(n);
  const std::int64_t embedding_start = embeddings;
  const std::int32_t embedding_count = static_cast<std::int32_t>(spans);
  h5::write_rows(dataset(sc::kSampleText), H5T_NATIVE_UINT8, static_cast<hsize_t>(sample_text_bytes), sample_text.size(),
                 sample_text.data(), ctx);
  h5::write_rows(dataset(sc::kIdStart), H5T_NATIVE_INT64, at_sample, 1, &id_start, ctx);
  h5::write_rows(dataset(sc::kIdLength), H5T_NATIVE_INT32, at_sample, 1, &id_length, ctx);
  h5::write_rows(dataset(sc::kMetadataStart), H5T_NATIVE_INT64, at_sample, 1, &metadata_start, ctx);
  h5::write_rows(dataset(sc::kMetadataLength), H5T_NATIVE_INT32, at_sample, 1, &metadata_length, ctx);
  h5::write_rows(dataset(sc::kEmbeddingStart), H5T_NATIVE_INT64, at_sample, 1, &embedding_start, ctx);
  h5::write_rows(dataset(sc::kEmbeddingCount), H5T_NATIVE_INT32, at_sample, 1, &embedding_count, ctx);
  h5::write_rows(dataset(sc::kPromptLength), H5T_NATIVE_INT32, at_sample, 1, &s.prompt_length, ctx);
  h5::write_rows(dataset(sc::kTokenCount), H5T_NATIVE_INT32, at_sample, 1, &token_count, ctx);
  // Everything of the sample reaches the file before the row that commits it.
  h5::check_status(H5Fflush(file, H5F_SCOPE_LOCAL), ctx, "cannot flush");
  const std::int64_t token_start = tokens;
  h5::write_rows(dataset(sc::kTokenStart), H5T_NATIVE_INT64, at_sample, 1, &token_start, ctx);
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
std::int64_t StoreWriter::sample_count() const { return impl_->samples; }
std::int64_t StoreWriter::token_count() const { return impl_->tokens; }
const StoreLayout& StoreWriter::layout() const { return impl_->layout; }
const std::string& StoreWriter::path() const { return impl_->path; }
std::vector<std::string> StoreWriter::sample_ids() const { return impl_->ids; }

void StoreWriter::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  impl_->metric_sets.clear();
  impl_->summary_sets.clear();
  impl_->attention_sets.clear();
  impl_->datasets.clear();
  impl_->file.reset();
  // SWMR mode cannot write attributes; reopen briefly to mark the file complete.
  Id access = file_access_latest();
  Id file(H5Fopen(impl_->path.c_str(), H5F_ACC_RDWR, access));
  if (file.valid()) h5::write_attribute(file, sc::kComplete, std::int64_t{1});
  file.reset();
  impl_->lock->release();
}

}  // namespace headscope::store
