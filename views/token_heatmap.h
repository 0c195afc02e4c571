// Token heatmap: every head of the selected layer (rows) over the selected sample's tokens (columns) for
// one metric, as one texture, with token text on the x axis (thinned to what fits; zoom in for every
// token). Clicking a row selects that head.
#pragma once
#include <string>
#include <vector>

#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct TokenHeatmapState {
  std::string metric = "entropy";
  plot::ColormapId colormap = plot::ColormapId::viridis;
  plot::PlotState plot;
  std::vector<float> transposed;  // [head, token], cached from the [token, head] slice
  std::uint64_t transposed_serial = 0;
  ValueRange range;               // finite range of `transposed`, computed with it
};

void token_heatmap_controls(TokenHeatmapState& state, const RunInfo& info);
std::string token_heatmap_title(ViewContext& context, TokenHeatmapState& state);
void draw_token_heatmap(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, TokenHeatmapState& state);

}  // namespace headscope::views
