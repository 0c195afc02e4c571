// Flow view: the K×K flow matrices (attention among the K chosen positions, row = attending position)
// averaged over samples — a small-multiple grid of the top heads by a chosen score (composite, flow, hub,
// skip or sequential) with each head's functional type and scores, the selected head's mean and std
// matrices, a histogram of hub positions over all heads and the seed's phase criteria as pass/fail.
// Clicking a small multiple selects that head everywhere.
#pragma once
#include <string>
#include <vector>

#include "core/analysis/flow_scores.h"
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct FlowViewState {
  int top_heads = 6;
  analysis::FlowScoreKind rank_by = analysis::FlowScoreKind::composite;  // the small multiples' order
  plot::ColormapId colormap = plot::ColormapId::viridis;
  std::vector<plot::PlotState> small_plots;  // one per small multiple
  plot::PlotState mean_plot, std_plot, hub_plot;
};

inline constexpr const char* kNoFlowMessage =
    "this run has no flow matrices (capture with --flow-size K to record them)";

// One K×K matrix as a heatmap, positions on both axes (row = attending); a colour bar when `colorbar_label`
// is non-empty. Returns the plot's result (clicks). Shared with the comparison view.
plot::PlotResult flow_heatmap(plot::Canvas& canvas, const std::string& id, plot::Rect rect, plot::PlotState* plot_state,
                              const std::string& title, const float* matrix, int k, const plot::Colormap& colormap,
                              double lo, double hi, std::uint64_t version, const std::string& colorbar_label,
                              bool axis_titles);

void flow_view_controls(FlowViewState& state);
std::string flow_view_title(ViewContext& context, FlowViewState& state);
void draw_flow_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, FlowViewState& state);

}  // namespace headscope::views
