// Phase 0 view (Spectra's target choice, core/analysis/phase0.h): layers × heads of the Pearson r between
// query norm and entropy over tokens, on a diverging colour map centred at 0, beside the heads ranked by r
// (most negative first) as bars, under a heading with the first one's r, Spearman and n. Clicking a cell
// or a bar selects that head everywhere (its drill-down follows).
#pragma once
#include <string>
#include <vector>

#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct Phase0ViewState {
  int top = 15;  // bars of the ranking
  plot::PlotState grid_plot, ranking_plot;
  std::vector<float> grid_values;  // [layer, head] r, rebuilt when the analysis changes
  const void* grid_of = nullptr;
};

void phase0_view_controls(Phase0ViewState& state);
std::string phase0_view_title(ViewContext& context, Phase0ViewState& state);
void draw_phase0_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, Phase0ViewState& state);

}  // namespace headscope::views
