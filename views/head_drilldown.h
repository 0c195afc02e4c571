// Head drill-down: every stored metric of the selected head over the selected sample's tokens, one small
// plot per metric stacked with a shared, linked x axis (zoom one, all follow), token text under the last
// one, generated tokens shaded. Clicking a token in any plot reads it out; the head comes from Selection.
#pragma once
#include <string>

#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct HeadDrilldownState {
  plot::PlotState shared_x;   // one state for all stacked plots: their x axes move together
  float min_plot_height = 96; // on screen the panel scrolls when the metrics do not fit
};

std::string head_drilldown_title(ViewContext& context, HeadDrilldownState& state);
// The height the drill-down wants at `available` height: at least min_plot_height per metric.
float head_drilldown_height(const RunInfo& info, const HeadDrilldownState& state, float available);
void draw_head_drilldown(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeadDrilldownState& state);

}  // namespace headscope::views
