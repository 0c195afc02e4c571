// The compare view's model-level trace panel: when both runs store `jsd` and one of them has no flow
// matrices (an imported JSD or V6 store is 1 x 1 and model-level), the two runs are compared on their
// model-level JSD traces instead (core/analysis/model_trace.h): the selected sample of A and B's sample
// of the same id (else the same index), aligned at their last token, with the numbers
// `headscope compare --trace jsd` prints for that pair in the title.
#pragma once
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

// Both runs hold jsd and at least one lacks flow matrices.
bool compares_traces(const RunInfo& a, const RunInfo& b);
void draw_trace_comparison(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, plot::PlotState* plot_state);

}  // namespace headscope::views
