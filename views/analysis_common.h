// What the analysis views (heartbeat, jsd, flow, rankings) share: the run's analysis or a placeholder
// while it is computed, the facts a sample's metadata records (level, step spans), and short number
// formatting for titles and tables.
#pragma once
#include <string>
#include <vector>

#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

// The run's analysis, or null after drawing a placeholder that says why ("analysing …", "no samples").
const analysis::StoreAnalysis* analysis_or_placeholder(plot::Canvas& canvas, plot::Rect frame, ViewContext& context,
                                                       const std::string& title);

// Token positions where the sample's steps start, in order: the generated steps' (capture.generated_spans)
// when the capture found them, else the prompt's recorded ones (capture.span_tokens); as analyze scores.
std::vector<int> recorded_step_starts(const store::SampleInfo& sample);

// "0.83", "nan" for a missing value; `digits` after the point.
std::string format_value(double value, int digits = 2);

// A stable texture version for a heatmap derived from an immutable result (a StoreAnalysis, a comparison):
// one per result object and slot.
std::uint64_t analysis_content_version(const void* result, std::uint64_t slot);

}  // namespace headscope::views
