// What a HeadScope store holds: the run's fixed layout (chosen when the file is created, since HDF5
// single-writer/multiple-reader mode cannot add datasets later), its provenance, and one sample's plain
// arrays as a capture or an importer hands them to the writer. Shapes in comments are in C/PyTorch order.
// The on-disk schema is documented in docs/store-format.md.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/store/facts.h"

namespace headscope::store {

inline constexpr const char* kFormatName = "headscope";
inline constexpr int kSchemaVersion = 1;

// Every error the store raises: the message names the file and what was wrong.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class RunKind { capture, sweep, ib, import };
const char* run_kind_name(RunKind kind);
RunKind parse_run_kind(const std::string& name);  // throws StoreError

struct HeadRef {
  int layer = 0;
  int head = 0;
  bool operator==(const HeadRef& o) const { return layer == o.layer && head == o.head; }
  bool operator<(const HeadRef& o) const { return layer != o.layer ? layer < o.layer : head < o.head; }
};
std::string head_name(HeadRef head);            // "L3H5"
std::optional<HeadRef> parse_head_name(const std::string& text);  // "L3H5" or "3:5"

// One per-token metric: a dataset /metrics/<name> shaped [token, layer, head].
struct MetricSpec {
  std::string name;         // e.g. "entropy"
  std::string units;        // e.g. "nats"
  std::string description;  // one sentence, written as an attribute
};

// The per-token metrics of METRICS.md, in their canonical order and names.
std::vector<MetricSpec> standard_metrics();
// The spec of a standard metric by name; throws StoreError for an unknown name.
MetricSpec standard_metric(const std::string& name);

enum class ValueType { float16, float32 };

// Fixed when the file is created.
struct StoreLayout {
  RunKind kind = RunKind::capture;
  int layer_count = 0;
  int head_count = 0;
  std::vector<MetricSpec> metrics;          // may be empty (e.g. a flow-only import)
  ValueType metric_type = ValueType::float16;
  int flow_size = 0;                        // K of the K×K flow matrices; 0 = none stored
  std::vector<HeadRef> pinned_heads;        // heads whose full attention is stored
  int embedding_dim = 0;                    // width of step-span embeddings; 0 = none stored
  // Storage tuning (measured in bench/bench_store.cpp; see docs/store-format.md).
  int chunk_tokens = 256;                   // token extent of a metric chunk [chunk_tokens, 1, head_count]
  int deflate_level = 1;                    // 0 = no compression; shuffle is always on when deflating
  // Opt-in lossy precision: metric values rounded to this many mantissa bits before they are stored
  // (float16: 0..10, float32: 0..23; -1 = lossless). 7 bits on float16 keep a relative error <= 2^-8.
  int mantissa_bits = -1;
};

// Where the run came from; written once at creation.
struct Provenance {
  std::string command_line;       // the exact command line that made the file
  std::string model_name;         // a short name (folder name of the checkpoint)
  std::string model_path;
  std::string model_config_json;  // config.json, verbatim
  std::string tokenizer_format;   // "tokenizer.json", "tokenizer.model" or ""
  std::vector<std::uint8_t> tokenizer_bytes;  // the tokenizer file, verbatim
  std::string settings_json;      // capture / import settings (thresholds, windows, modes, source files)
  RunSettings settings;           // decoded from settings_json by the reader (facts.h)
};

// Step-span embeddings of one sample (for the Information Bottleneck).
struct SpanEmbeddings {
  std::vector<std::int32_t> span_start;  // [spans] first token of the span
  std::vector<std::int32_t> span_end;    // [spans] one past the last token
  std::vector<std::string> labels;       // [spans]
  std::vector<float> vectors;            // [spans, embedding_dim]
  std::vector<std::int32_t> generated;   // [spans] 1: detected in the generated text; empty = all prompt spans
};

// One sample's arrays, as the capture engine or an importer produces them.
struct SampleRecord {
  std::string id;                        // the prompt set's id, or the source's
  std::string metadata_json = "{}";      // everything else the prompt set says (level, answer, spans...)
  std::vector<std::int32_t> tokens;      // [tokens]
  std::vector<std::string> token_text;   // [tokens] display text of each token; may be empty
  std::int32_t prompt_length = 0;        // tokens before generation began (== tokens for teacher forcing)
  std::vector<std::vector<float>> metrics;       // [metric][token, layer, head], in layout order
  std::vector<std::int32_t> flow_positions;      // [K] token positions of the flow matrix
  std::vector<float> flow;                       // [layer, head, K, K]
  std::vector<std::vector<float>> pinned_attention;  // [pinned head][query, key], tokens × tokens
  SpanEmbeddings embeddings;
};

// What the reader knows of one sample without reading its metrics.
struct SampleInfo {
  std::int64_t index = 0;
  std::string id;
  std::string metadata_json;
  std::int64_t token_start = 0;   // offset into the flat token axis
  std::int32_t token_count = 0;
  std::int32_t prompt_length = 0;
  SampleFacts facts;              // decoded from metadata_json by the reader (facts.h)
};

}  // namespace headscope::store
