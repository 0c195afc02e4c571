// JSD view: the selected head's windowed JSD (and per-token JSD) over the selected sample's tokens, the
// peaks the stated rule picks (mean + z·std, minimum separation) marked, and the step starts the prompt
// set recorded (metadata capture.span_tokens) as vertical lines; boundary precision and recall within
// ±k tokens in the title. Beside it, the model-level JSD (the per-token JSD averaged over every layer and
// head: the seed's one-number-per-step trace). Token text on the axis and on hover.
#pragma once
#include <string>

#include "core/analysis/jsd_peaks.h"
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct JsdViewState {
  plot::PlotState plot;
  analysis::PeakOptions peaks;  // z = 1, min separation 3
  int tolerance = 2;            // ±k tokens
  bool show_jsd = true;         // also the per-token JSD
  bool show_model = true;       // also the model-level JSD (mean over layers and heads; model_trace.h)
};

// Peaks and boundary score of one trace (the view's numbers, also for tests).
struct JsdBoundaries {
  std::vector<int> peaks;      // token positions
  std::vector<int> recorded;   // recorded step starts (all)
  analysis::BoundaryScore score;  // against the starts after the first (the first step has none before it)
};
JsdBoundaries jsd_boundaries(const std::vector<float>& trace, const std::vector<int>& recorded_starts,
                             const JsdViewState& state);

void jsd_view_controls(JsdViewState& state);
std::string jsd_view_title(ViewContext& context, JsdViewState& state);
void draw_jsd_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, JsdViewState& state);

}  // namespace headscope::views
