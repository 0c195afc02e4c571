// Sweep view: a sweep file's dose-response as three panels — entropy, max attention and k90 of every
// measured head against the scale (log-x axis), the target and its controls overlaid with ± 1 std (or
// ± SE) error bars, the OLS fit of mean max attention on ln(scale) drawn with each head's gain ± SE in the
// legend — under a heading that states the checks' verdicts and any NULL RESULT in plain words.
#pragma once
#include <string>

#include "views/data/result_files.h"
#include "views/plot/plot.h"

namespace headscope::views {

enum class SweepErrorBars { std, standard_error };

struct SweepViewState {
  SweepErrorBars error_bars = SweepErrorBars::std;
  plot::PlotState panels[kSweepMetrics];
};

std::string sweep_view_title(const SweepData& sweep);
// The heading lines every sweep figure shows: the checks, then the null result or the effect.
std::vector<std::string> sweep_verdict_lines(const SweepData& sweep, std::vector<bool>* good = nullptr);
void draw_sweep_view(plot::Canvas& canvas, plot::Rect frame, const SweepData& sweep, SweepViewState& state);
// Screen only: the error-bar choice.
void sweep_view_controls(SweepViewState& state);

}  // namespace headscope::views
