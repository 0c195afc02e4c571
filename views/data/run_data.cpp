// Shared pieces of RunData (typed reads, header reads) and the synchronous DirectRunData.
#include "views/data/run_data.h"

#include <tuple>

#include "core/analysis/flow_comparison.h"
#include "core/analysis/model_trace.h"
#include "core/store/reader.h"

namespace headscope::views {

std::uint64_t next_serial() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1);
}

RunRead RunRead::summary_of(const std::string& metric) {
  RunRead read;
  read.kind = Kind::summary;
  read.metric = metric;
  return read;
}
RunRead RunRead::layer_slice_of(const std::string& metric, std::int64_t sample, int layer) {
  RunRead read;
  read.kind = Kind::layer_slice;
  read.metric = metric;
  read.sample = sample;
  read.layer = layer;
  return read;
}
RunRead RunRead::head_trace_of(const std::string& metric, std::int64_t sample, store::HeadRef head) {
  RunRead read;
  read.kind = Kind::head_trace;
  read.metric = metric;
  read.sample = sample;
  read.head = head;
  return read;
}
RunRead RunRead::token_text_of(std::int64_t sample) {
  RunRead read;
  read.kind = Kind::token_text;
  read.sample = sample;
  return read;
}
RunRead RunRead::pinned_attention_of(std::int64_t sample, store::HeadRef head) {
  RunRead read;
  read.kind = Kind::pinned_attention;
  read.sample = sample;
  read.head = head;
  return read;
}
RunRead RunRead::flow_mean_of(const std::vector<std::int64_t>& samples) {
  RunRead read;
  read.kind = Kind::flow_mean;
  read.samples = samples;
  return read;
}
RunRead RunRead::analysis_of_run() {
  RunRead read;
  read.kind = Kind::analysis;
  return read;
}

RunRead RunRead::model_trace_of(const std::string& metric, std::int64_t sample) {
  RunRead read;
  read.kind = Kind::model_trace;
  read.metric = metric;
  read.sample = sample;
  return read;
}
RunRead RunRead::heartbeats_of_run(const analysis::HeartbeatOptions& options) {
  RunRead read;
  read.kind = Kind::heartbeats;
  read.heartbeat_definition = static_cast<int>(options.definition);
  read.heartbeat_threshold = options.threshold;
  read.heartbeat_min_run = options.min_run;
  return read;
}
analysis::HeartbeatOptions RunRead::heartbeat_options() const {
  analysis::HeartbeatOptions options;
  options.definition = static_cast<analysis::HeartbeatDefinition>(heartbeat_definition);
  options.threshold = heartbeat_threshold;
  options.min_run = heartbeat_min_run;
  return options;
}

namespace {
auto key_of(const RunRead& r) {
  return std::tie(r.kind, r.metric, r.sample, r.layer, r.head, r.samples, r.heartbeat_definition, r.heartbeat_threshold,
                  r.heartbeat_min_run);
}
}  // namespace

bool RunRead::operator==(const RunRead& o) const { return key_of(*this) == key_of(o); }
bool RunRead::operator<(const RunRead& o) const { return key_of(*this) < key_of(o); }

RunInfo read_run_info(const store::StoreReader& reader) {
  RunInfo info;
  info.path = reader.path();
  info.opened = true;
  info.layout = reader.layout();
  info.provenance = reader.provenance();
  info.created = reader.created();
  info.tool_version = reader.tool_version();
  info.live = reader.live();
  info.complete = reader.complete();
  info.sample_count = reader.sample_count();
  info.token_count = reader.token_count();
  info.samples.reserve(static_cast<std::size_t>(info.sample_count));
  for (std::int64_t i = 0; i < info.sample_count; ++i) info.samples.push_back(reader.sample(i));
  return info;
}

SharedFloats read_floats(const store::StoreReader& reader, const RunRead& read) {
  auto block = std::make_shared<FloatBlock>();
  block->serial = next_serial();
  switch (read.kind) {
    case RunRead::Kind::summary: block->values = reader.summary(read.metric); break;
    case RunRead::Kind::layer_slice: block->values = reader.layer_slice(read.metric, read.sample, read.layer); break;
    case RunRead::Kind::head_trace: block->values = reader.head_trace(read.metric, read.sample, read.head); break;
    case RunRead::Kind::model_trace: block->values = analysis::model_level_trace(reader, read.sample, read.metric); break;
    case RunRead::Kind::flow_mean: block->values = analysis::average_store_flow(reader, read.samples).mean; break;
    case RunRead::Kind::token_text:
    case RunRead::Kind::pinned_attention:
    case RunRead::Kind::analysis:
    case RunRead::Kind::heartbeats: break;  // not floats: served by their own functions
  }
  return block;
}

SharedPinned read_pinned(const store::StoreReader& reader, std::int64_t sample, store::HeadRef head) {
  auto result = std::make_shared<PinnedAttention>();
  result->serial = next_serial();
  if (auto values = reader.pinned_attention(sample, head)) {
    result->pinned = true;
    result->values = std::move(*values);
    result->token_count = reader.sample(sample).token_count;
  }
  return result;
}

DirectRunData::DirectRunData(const std::string& path) : reader_(store::StoreReader::open(path)) {
  info_ = read_run_info(*reader_);
}

DirectRunData::~DirectRunData() = default;

SharedFloats DirectRunData::cached(const RunRead& read) {
  auto found = floats_.find(read);
  if (found != floats_.end()) return found->second;
  if (floats_.size() > 64) floats_.clear();
  SharedFloats block = read_floats(*reader_, read);
  floats_[read] = block;
  return block;
}

SharedFloats DirectRunData::summary(const std::string& metric) { return cached(RunRead::summary_of(metric)); }
SharedFloats DirectRunData::layer_slice(const std::string& metric, std::int64_t sample, int layer) {
  return cached(RunRead::layer_slice_of(metric, sample, layer));
}
SharedFloats DirectRunData::head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) {
  return cached(RunRead::head_trace_of(metric, sample, head));
}

SharedFloats DirectRunData::model_trace(const std::string& metric, std::int64_t sample) {
  return cached(RunRead::model_trace_of(metric, sample));
}

SharedStrings DirectRunData::token_text(std::int64_t sample) {
  auto found = texts_.find(sample);
  if (found != texts_.end()) return found->second;
  auto texts = std::make_shared<const std::vector<std::string>>(reader_->token_text(sample));
  texts_[sample] = texts;
  return texts;
}

SharedPinned DirectRunData::pinned_attention(std::int64_t sample, store::HeadRef head) {
  const RunRead read = RunRead::pinned_attention_of(sample, head);
  if (auto found = pinned_.find(read); found != pinned_.end()) return found->second;
  if (pinned_.size() > 8) pinned_.clear();
  SharedPinned result = read_pinned(*reader_, sample, head);
  pinned_[read] = result;
  return result;
}

SharedFloats DirectRunData::flow_mean(const std::vector<std::int64_t>& samples) {
  return cached(RunRead::flow_mean_of(samples));
}

SharedHeartbeats DirectRunData::heartbeats(const analysis::HeartbeatOptions& options) {
  auto& cached = heartbeats_[RunRead::heartbeats_of_run(options)];
  if (!cached) cached = std::make_shared<const analysis::HeartbeatRun>(analysis::compute_heartbeat_run(*reader_, options));
  return cached;
}

SharedAnalysis DirectRunData::analysis() {
  if (!analysis_) analysis_ = std::make_shared<const analysis::StoreAnalysis>(analysis::analyze_store(*reader_));
  return analysis_;
}

}  // namespace headscope::views
