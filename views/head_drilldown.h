// Head drill-down: every stored metric of the selected head over the selected sample's tokens, one small
// plot per metric stacked with a shared, linked x axis (zoom one, all follow), token text under the last
// one, generated tokens shaded. Clicking a token in any plot reads it out; the head comes from Selection.
// Its control row starts a sweep of the head (views/sweep_launch.h).
#pragma once
#include <string>

#include "views/plot/plot.h"
#include "views/sweep_launch.h"
#include "views/view_common.h"

namespace headscope::views {

struct HeadDrilldownState {
  plot::PlotState shared_x;   // one state for all stacked plots: their x axes move together
  float min_plot_height = 96; // on screen the panel scrolls when the metrics do not fit
  SweepLaunchState sweep;     // "Sweep this head": the launcher's fields
};

std::string head_drilldown_title(ViewContext& context, HeadDrilldownState& state);
// The height the drill-down wants at `available` height: at least min_plot_height per metric.
float head_drilldown_height(const RunInfo& info, const HeadDrilldownState& state, float available);
void draw_head_drilldown(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeadDrilldownState& state);
// Screen only: the panel's control row, "Sweep this head" (`sweep_unavailable` non-empty: why this build
// cannot). Returns true, with the plan, when the user starts a sweep.
bool head_drilldown_controls(ViewContext& context, HeadDrilldownState& state, const std::string& sweep_unavailable,
                             SweepPlan* plan);

}  // namespace headscope::views
