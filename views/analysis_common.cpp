// Shared pieces of the analysis views (see analysis_common.h).
#include "views/analysis_common.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

namespace headscope::views {

const analysis::StoreAnalysis* analysis_or_placeholder(plot::Canvas& canvas, plot::Rect frame, ViewContext& context,
                                                       const std::string& title) {
  const RunInfo& info = context.run->info();
  if (info.sample_count == 0) {
    plot::draw_placeholder(canvas, frame, title, info.opened ? "no samples yet" : "opening …");
    return nullptr;
  }
  SharedAnalysis result = context.run->analysis();
  if (!result) {
    plot::draw_placeholder(canvas, frame, title, "analysing the run …");
    return nullptr;
  }
  return result.get();  // the snapshot (or DirectRunData) keeps it alive for the frame
}

std::vector<int> recorded_step_starts(const store::SampleInfo& sample) {
  std::vector<int> starts;
  const auto metadata = nlohmann::json::parse(sample.metadata_json, nullptr, false);
  if (!metadata.is_object() || !metadata.contains("capture") || !metadata["capture"].is_object() ||
      !metadata["capture"].contains("span_tokens"))
    return starts;
  for (const auto& span : metadata["capture"]["span_tokens"])
    if (span.is_array() && !span.empty() && span[0].is_number_integer()) starts.push_back(span[0].get<int>());
  return starts;
}

std::string format_value(double value, int digits) {
  if (!std::isfinite(value)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

std::uint64_t analysis_content_version(const void* result, std::uint64_t slot) {
  return std::hash<const void*>()(result) * 1315423911ull + slot + 1;
}

}  // namespace headscope::views
