// Sweep gains view: the gain (OLS slope of mean max attention on ln scale) of the target and of each
// control as bars with ± SE error bars, and beside them the target/control ratios with their verdict
// words, the ratio against the mean control, each head's R² and trends, and the checks' verdicts.
#pragma once
#include <string>

#include "views/data/result_files.h"
#include "views/plot/plot.h"

namespace headscope::views {

struct SweepGainsState {
  plot::PlotState bars;
};

std::string sweep_gains_title(const SweepData& sweep);
void draw_sweep_gains(plot::Canvas& canvas, plot::Rect frame, const SweepData& sweep, SweepGainsState& state);

}  // namespace headscope::views
