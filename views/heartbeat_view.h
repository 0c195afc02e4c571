// Heartbeat view: the input-attention fraction (IAF) of the selected head over the selected sample's
// generated steps as a telegraph trace — threshold line, detected heartbeats (low runs) shaded, their
// count in the legend, token text on hover — stacked with the run's top telegraph heads; below, the
// calibration table by level (mean heartbeats per sample, std, samples) as a bar chart and as numbers.
#pragma once
#include <string>

#include "core/analysis/heartbeat.h"
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct HeartbeatViewState {
  plot::PlotState shared_x;        // the stacked traces share x
  plot::PlotState calibration_plot;
  int top_heads = 2;               // top telegraph heads stacked under the selected one
  analysis::HeartbeatOptions options;  // debounced, threshold 0.5, min run 5
};

inline constexpr const char* kTeacherForcedMessage =
    "teacher-forced capture: IAF is undefined; capture with --generate N";

void heartbeat_view_controls(HeartbeatViewState& state);
std::string heartbeat_view_title(ViewContext& context, HeartbeatViewState& state);
void draw_heartbeat_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeartbeatViewState& state);

}  // namespace headscope::views
