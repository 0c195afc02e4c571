// Sweep view: a sweep file's dose-response as three panels — entropy, max attention and k90 of every
// measured head against the scale (log-x axis), the target and its controls overlaid with ± 1 std (or
// ± SE) error bars, the OLS fit of mean max attention on ln(scale) drawn with each head's gain ± SE in the
// legend — under a heading that states the checks' verdicts and any NULL RESULT in plain words. A sweep
// still running draws the scales measured so far and says how far it got.
#pragma once
#include <string>

#include "views/data/result_files.h"
#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

// across_samples: the file's 95 % percentile bootstrap interval over samples (max attention only; the
// other panels then draw none and the heading says so).
enum class SweepErrorBars { std, standard_error, across_samples };

struct SweepViewState {
  SweepErrorBars error_bars = SweepErrorBars::std;
  plot::PlotState panels[kSweepMetrics];
};

std::string sweep_view_title(const SweepData& sweep);
// The heading lines every sweep figure shows: the checks (or that they are pending), then the null result
// or the effect — or, while the file is incomplete, how far it got.
std::vector<HeadingLine> sweep_verdict_heading(const SweepData& sweep);
// "" for a complete sweep, else e.g. "incomplete: 2 of 5 scales measured (running, or stopped before the end)".
std::string sweep_progress_words(const SweepData& sweep);
void draw_sweep_view(plot::Canvas& canvas, plot::Rect frame, const SweepData& sweep, SweepViewState& state);
// Screen only: the error-bar choice.
void sweep_view_controls(SweepViewState& state);

}  // namespace headscope::views
