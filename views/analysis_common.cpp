// Shared pieces of the analysis views (see analysis_common.h).
#include "views/analysis_common.h"

#include <cmath>
#include <cstdio>
#include <functional>

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

std::vector<int> recorded_step_starts(const store::SampleInfo& sample) { return sample.facts.boundary_step_starts(); }

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
