// Head grid: layers × heads of one metric, aggregated over samples (mean or std of the per-sample
// summaries, or the selected sample alone), as one texture with a colorbar. Clicking a cell selects that
// head everywhere; the selected head is outlined.
#pragma once
#include <string>
#include <vector>

#include "views/plot/canvas.h"
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

enum class HeadGridAggregate { mean, std, selected_sample };
const char* head_grid_aggregate_name(HeadGridAggregate aggregate);

struct HeadGridState {
  std::string metric = "entropy";
  HeadGridAggregate aggregate = HeadGridAggregate::mean;
  plot::ColormapId colormap = plot::ColormapId::viridis;
  plot::PlotState plot;
  // Cache of the aggregate ([layer, head]); rebuilt when its inputs change.
  std::vector<float> values;
  std::uint64_t values_key = 0;
};

void head_grid_controls(HeadGridState& state, const RunInfo& info);
std::string head_grid_title(ViewContext& context, HeadGridState& state);
void draw_head_grid(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeadGridState& state);

}  // namespace headscope::views
