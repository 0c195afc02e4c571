// Shared pieces of RunData (keys, header reads) and the synchronous DirectRunData.
#include "views/data/run_data.h"

#include <sstream>

#include "core/analysis/flow_comparison.h"
#include "core/store/reader.h"

namespace headscope::views {

std::uint64_t next_serial() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1);
}

std::string summary_key(const std::string& metric) { return "summary|" + metric; }
std::string layer_slice_key(const std::string& metric, std::int64_t sample, int layer) {
  return "layer|" + metric + "|" + std::to_string(sample) + "|" + std::to_string(layer);
}
std::string head_trace_key(const std::string& metric, std::int64_t sample, store::HeadRef head) {
  return "trace|" + metric + "|" + std::to_string(sample) + "|" + std::to_string(head.layer) + "|" +
         std::to_string(head.head);
}
std::string pinned_key(std::int64_t sample, store::HeadRef head) {
  return "pinned|" + std::to_string(sample) + "|" + std::to_string(head.layer) + "|" + std::to_string(head.head);
}

std::string flow_mean_key(const std::vector<std::int64_t>& samples) {
  std::string key = "flowmean|";
  for (std::size_t i = 0; i < samples.size();) {
    std::size_t end = i;
    while (end + 1 < samples.size() && samples[end + 1] == samples[end] + 1) ++end;
    key += (i ? "," : "") + std::to_string(samples[i]) + (end > i ? "-" + std::to_string(samples[end]) : "");
    i = end + 1;
  }
  return key;
}

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

SharedFloats read_floats(const store::StoreReader& reader, const std::string& key) {
  std::istringstream in(key);
  std::string kind, metric, field;
  std::getline(in, kind, '|');
  auto block = std::make_shared<FloatBlock>();
  block->serial = next_serial();
  if (kind == "summary") {
    std::getline(in, metric);
    block->values = reader.summary(metric);
  } else if (kind == "layer") {
    std::getline(in, metric, '|');
    std::getline(in, field, '|');
    const std::int64_t sample = std::stoll(field);
    std::getline(in, field);
    block->values = reader.layer_slice(metric, sample, std::stoi(field));
  } else if (kind == "trace") {
    std::getline(in, metric, '|');
    std::getline(in, field, '|');
    const std::int64_t sample = std::stoll(field);
    store::HeadRef head;
    std::getline(in, field, '|');
    head.layer = std::stoi(field);
    std::getline(in, field);
    head.head = std::stoi(field);
    block->values = reader.head_trace(metric, sample, head);
  } else if (kind == "flowmean") {
    std::vector<std::int64_t> samples;
    while (std::getline(in, field, ',')) {
      const std::size_t dash = field.find('-');
      const std::int64_t first = std::stoll(field.substr(0, dash));
      const std::int64_t last = dash == std::string::npos ? first : std::stoll(field.substr(dash + 1));
      for (std::int64_t i = first; i <= last; ++i) samples.push_back(i);
    }
    block->values = analysis::average_store_flow(reader, samples).mean;
  }
  return block;
}

DirectRunData::DirectRunData(const std::string& path) : reader_(store::StoreReader::open(path)) {
  info_ = read_run_info(*reader_);
}

DirectRunData::~DirectRunData() = default;

SharedFloats DirectRunData::cached(const std::string& key) {
  auto found = floats_.find(key);
  if (found != floats_.end()) return found->second;
  if (floats_.size() > 64) floats_.clear();
  SharedFloats block = read_floats(*reader_, key);
  floats_[key] = block;
  return block;
}

SharedFloats DirectRunData::summary(const std::string& metric) { return cached(summary_key(metric)); }
SharedFloats DirectRunData::layer_slice(const std::string& metric, std::int64_t sample, int layer) {
  return cached(layer_slice_key(metric, sample, layer));
}
SharedFloats DirectRunData::head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) {
  return cached(head_trace_key(metric, sample, head));
}

SharedStrings DirectRunData::token_text(std::int64_t sample) {
  auto found = texts_.find(sample);
  if (found != texts_.end()) return found->second;
  auto texts = std::make_shared<const std::vector<std::string>>(reader_->token_text(sample));
  texts_[sample] = texts;
  return texts;
}

SharedPinned DirectRunData::pinned_attention(std::int64_t sample, store::HeadRef head) {
  const std::string key = pinned_key(sample, head);
  if (auto found = pinned_.find(key); found != pinned_.end()) return found->second;
  if (pinned_.size() > 8) pinned_.clear();
  auto result = std::make_shared<PinnedAttention>();
  result->serial = next_serial();
  if (auto values = reader_->pinned_attention(sample, head)) {
    result->pinned = true;
    result->values = std::move(*values);
    result->token_count = info_.samples.at(static_cast<std::size_t>(sample)).token_count;
  }
  pinned_[key] = result;
  return result;
}

SharedFloats DirectRunData::flow_mean(const std::vector<std::int64_t>& samples) {
  return cached(flow_mean_key(samples));
}

SharedAnalysis DirectRunData::analysis() {
  if (!analysis_) analysis_ = std::make_shared<const analysis::StoreAnalysis>(analysis::analyze_store(*reader_));
  return analysis_;
}

}  // namespace headscope::views
