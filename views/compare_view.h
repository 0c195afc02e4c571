// Model comparison view: the active run (A) against a second run (B, ViewContext::compare_run) over the
// prompts both share — each model's flow matrix averaged over heads and samples and its top head's matrix
// (one colour scale per pair), the sorted composite scores with the threshold, hub positions as shares of
// heads, and the mean composite per layer; a heading line per model gives the heads over the threshold
// and the concentration of the composite mass. Numbers from analysis::compare_flow. Runs compared on
// their model-level JSD traces instead (one has no flow matrices): compare_traces.h.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/flow_comparison.h"
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct CompareCache;  // the plan for the runs' sample lists and the comparison of the averaged blocks

struct CompareViewState {
  analysis::FlowComparisonOptions options;
  plot::ColormapId colormap = plot::ColormapId::viridis;
  std::string compare_path;  // workbench: the open run chosen under "compare with" (empty: the first other)
  std::array<plot::PlotState, 4> matrix_plots;
  plot::PlotState composite_plot, hub_plot, layer_plot;
  std::shared_ptr<CompareCache> cache;
};

inline constexpr const char* kNoCompareRunMessage =
    "open a second run of another model on the same prompts and choose it under 'compare with' "
    "(headscope export: --compare OTHER.h5)";

// The comparison of context.run with context.compare_run, or null with `message` saying why not (no second
// run, still opening, mismatched prompts or flow sizes, averaging in progress). Never blocks with LiveRunData.
std::shared_ptr<const analysis::FlowComparison> current_comparison(ViewContext& context, CompareViewState& state,
                                                                   std::string* message);

// `other_paths`: the open runs other than the active one.
void compare_view_controls(CompareViewState& state, const std::vector<std::string>& other_paths);
std::string compare_view_title(ViewContext& context, CompareViewState& state);
void draw_compare_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, CompareViewState& state);

}  // namespace headscope::views
