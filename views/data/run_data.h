// RunData: what views read from a run, the same for a finished file and one a capture is still writing
// (Tracy's one data model for live and saved). Reads never block the caller: a value that is not at hand
// yet comes back null and is requested, and a later frame draws it. DirectRunData (here) reads
// synchronously for export and tests; LiveRunData (live_run_data.h) serves the window from a background
// thread that polls refresh() and publishes immutable snapshots.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/store_analysis.h"
#include "core/store/layout.h"

namespace headscope::store { class StoreReader; }

namespace headscope::views {

// An immutable block of values; `serial` is unique per read (texture caches key on it).
struct FloatBlock {
  std::vector<float> values;
  std::uint64_t serial = 0;
};
using SharedFloats = std::shared_ptr<const FloatBlock>;
using SharedStrings = std::shared_ptr<const std::vector<std::string>>;
// analyze_store over the whole run (heartbeats, flow, boundaries); immutable once published.
using SharedAnalysis = std::shared_ptr<const analysis::StoreAnalysis>;
// compute_heartbeat_run over the whole run with the asked options (the same computation as analyze's).
using SharedHeartbeats = std::shared_ptr<const analysis::HeartbeatRun>;

struct PinnedAttention {
  bool pinned = false;        // false: this head's attention is not stored in the run
  int token_count = 0;
  std::vector<float> values;  // [query, key] when pinned
  std::uint64_t serial = 0;
};
using SharedPinned = std::shared_ptr<const PinnedAttention>;

std::uint64_t next_serial();

// The run's header and sample list as of the latest refresh.
struct RunInfo {
  std::string path;
  std::string error;             // non-empty: the file could not be opened or read
  bool opened = false;           // false while the file is still being opened
  store::StoreLayout layout;
  store::Provenance provenance;
  std::string created, tool_version;
  bool live = false;             // a writer still holds the file
  bool complete = false;
  std::int64_t sample_count = 0;
  std::int64_t token_count = 0;
  std::vector<store::SampleInfo> samples;
  std::uint64_t generation = 0;  // grows whenever samples appear
};

class RunData {
 public:
  virtual ~RunData() = default;
  virtual const RunInfo& info() const = 0;
  // Null while pending. [samples, layer, head]
  virtual SharedFloats summary(const std::string& metric) = 0;
  // Null while pending. [tokens, head]
  virtual SharedFloats layer_slice(const std::string& metric, std::int64_t sample, int layer) = 0;
  // Null while pending. [tokens]
  virtual SharedFloats head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) = 0;
  // Null while pending. [tokens] the model-level trace: the metric's mean over layers and heads
  // (core/analysis/model_trace.h).
  virtual SharedFloats model_trace(const std::string& metric, std::int64_t sample) = 0;
  // Null while pending. [tokens]
  virtual SharedStrings token_text(std::int64_t sample) = 0;
  // Null while pending; pinned = false when the run did not store this head.
  virtual SharedPinned pinned_attention(std::int64_t sample, store::HeadRef head) = 0;
  // Null while pending: analyze_store over the run's samples as of the latest refresh (a live run's result
  // may trail new samples by a few seconds; it is recomputed, never blocking the caller).
  virtual SharedAnalysis analysis() { return nullptr; }
  // Null while pending: the run's heartbeats under these options (heartbeat_run.h), recomputed as
  // analysis() is when samples appear.
  virtual SharedHeartbeats heartbeats(const analysis::HeartbeatOptions&) { return nullptr; }
  // Null while pending: the flow matrices of `samples` averaged over them (NaN skipped), [layer, head, K, K]
  // (the model comparison reads the prompts two runs share).
  virtual SharedFloats flow_mean(const std::vector<std::int64_t>& samples) = 0;
};

// One read a view asks of a run, typed (as AttentionRequest is for recomputed attention): the value is
// both the request queued to a background reader and the key of its cached result, so nothing is
// rendered to a string and parsed back. Make one with the named constructors; unused fields stay default.
struct RunRead {
  enum class Kind { summary, layer_slice, head_trace, model_trace, token_text, pinned_attention, flow_mean, analysis, heartbeats };
  Kind kind = Kind::summary;
  std::string metric;                 // summary, layer_slice, head_trace, model_trace
  std::int64_t sample = 0;            // layer_slice, head_trace, model_trace, token_text, pinned_attention
  int layer = 0;                      // layer_slice
  store::HeadRef head;                // head_trace, pinned_attention
  std::vector<std::int64_t> samples;  // flow_mean: the samples averaged over
  int heartbeat_definition = 0;       // heartbeats: HeartbeatOptions as plain comparable fields
  double heartbeat_threshold = 0;
  int heartbeat_min_run = 0;

  static RunRead summary_of(const std::string& metric);
  static RunRead layer_slice_of(const std::string& metric, std::int64_t sample, int layer);
  static RunRead head_trace_of(const std::string& metric, std::int64_t sample, store::HeadRef head);
  static RunRead model_trace_of(const std::string& metric, std::int64_t sample);
  static RunRead token_text_of(std::int64_t sample);
  static RunRead pinned_attention_of(std::int64_t sample, store::HeadRef head);
  static RunRead flow_mean_of(const std::vector<std::int64_t>& samples);
  static RunRead analysis_of_run();
  static RunRead heartbeats_of_run(const analysis::HeartbeatOptions& options);
  analysis::HeartbeatOptions heartbeat_options() const;  // of a heartbeats read

  bool operator==(const RunRead& o) const;
  bool operator<(const RunRead& o) const;  // an order for map keys
};

// Reads a RunInfo from an open reader (the header and every sample's info).
RunInfo read_run_info(const store::StoreReader& reader);
// Performs one float read (kind summary, layer_slice, head_trace, model_trace or flow_mean) on a reader.
SharedFloats read_floats(const store::StoreReader& reader, const RunRead& read);
// Reads one head's stored attention (pinned = false when the run did not store it).
SharedPinned read_pinned(const store::StoreReader& reader, std::int64_t sample, store::HeadRef head);

// Synchronous RunData over a StoreReader: every call reads (with a small cache). For export and tests.
class DirectRunData : public RunData {
 public:
  explicit DirectRunData(const std::string& path);  // throws store::StoreError
  ~DirectRunData() override;
  const RunInfo& info() const override { return info_; }
  SharedFloats summary(const std::string& metric) override;
  SharedFloats layer_slice(const std::string& metric, std::int64_t sample, int layer) override;
  SharedFloats head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) override;
  SharedFloats model_trace(const std::string& metric, std::int64_t sample) override;
  SharedStrings token_text(std::int64_t sample) override;
  SharedPinned pinned_attention(std::int64_t sample, store::HeadRef head) override;
  SharedAnalysis analysis() override;
  SharedHeartbeats heartbeats(const analysis::HeartbeatOptions& options) override;
  SharedFloats flow_mean(const std::vector<std::int64_t>& samples) override;

 private:
  SharedFloats cached(const RunRead& read);
  std::map<RunRead, SharedHeartbeats> heartbeats_;
  std::unique_ptr<store::StoreReader> reader_;
  RunInfo info_;
  std::map<RunRead, SharedFloats> floats_;
  std::map<std::int64_t, SharedStrings> texts_;
  std::map<RunRead, SharedPinned> pinned_;
  SharedAnalysis analysis_;
};

}  // namespace headscope::views
