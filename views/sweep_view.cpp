// The three-panel sweep view (see sweep_view.h). x is log10(scale) on an axis_log10 axis, so the gain
// fit y = intercept + gain·ln(scale) is a straight line; an ablation sweep (no scales) plots the baseline
// and its condition(s) as categories instead.
#include "views/sweep_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "views/plot/ticks.h"
#include "views/view_common.h"

namespace headscope::views {
namespace {

std::string check_words(const char* name, const SweepCheck& check, bool baseline_done) {
  if (!check.present) return std::string(name) + (baseline_done ? ": not recorded" : ": pending (runs with the baseline)");
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, "max |diff| %.3g, tolerance %.3g", check.max_abs_difference, check.tolerance);
  return std::string(name) + ": " + (check.passed ? "PASSED" : "FAILED") + (check.bitwise ? " (bitwise)" : "") + ", " +
         numbers;
}

const char* metric_title(int metric) {
  static const char* const titles[kSweepMetrics] = {"entropy (nats)", "max attention", "k90 (keys)"};
  return titles[metric];
}

}  // namespace

std::string sweep_view_title(const SweepData& sweep) {
  std::string controls;
  for (std::size_t h = 1; h < sweep.head_count(); ++h) controls += (h > 1 ? ", " : "") + sweep.head_names[h];
  std::string title = "sweep: " + sweep.intervention + " of " + sweep.target;
  if (!controls.empty()) title += " vs " + controls;
  if (!sweep.model_name.empty()) title += " (" + sweep.model_name + ")";
  return title + ", " + std::to_string(sweep.sample_count) + " samples";
}

std::string sweep_progress_words(const SweepData& sweep) {
  if (sweep.complete) return "";
  std::string words = "incomplete: " + std::to_string(sweep.conditions_done()) + " of " + std::to_string(sweep.condition_count()) +
                      (sweep.scaling() ? " scales" : " conditions") + " measured";
  if (!sweep.baseline_done) words += ", the baseline and checks running";
  return words + " (running, or stopped before the end)";
}

std::vector<HeadingLine> sweep_verdict_heading(const SweepData& sweep) {
  const plot::Color pending = plot::style().muted_text;
  const bool checks_known = sweep.sanity.present && sweep.isolation.present;
  const bool checks_passed = sweep.sanity.passed && sweep.isolation.passed;
  std::vector<HeadingLine> lines;
  lines.push_back({check_words("baseline sanity", sweep.sanity, sweep.baseline_done) + "   |   " +
                       check_words("isolation", sweep.isolation, sweep.baseline_done),
                   checks_passed ? pass_color() : checks_known || sweep.baseline_done ? fail_color() : pending});
  if (!sweep.complete)
    lines.push_back({sweep_progress_words(sweep) + "; the verdict comes when every scale is in", pending});
  else if (!sweep.null_result.empty())
    lines.push_back({"NULL RESULT: " + sweep.null_result, fail_color()});
  else
    lines.push_back({"effect in the expected direction (no null result)", pass_color()});
  return lines;
}

void draw_sweep_view(plot::Canvas& canvas, plot::Rect frame, const SweepData& sweep, SweepViewState& state) {
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  std::vector<HeadingLine> lines = sweep_verdict_heading(sweep);
  const bool ci = state.error_bars == SweepErrorBars::across_samples && !sweep.max_attention_ci_low.empty();
  const bool se = state.error_bars == SweepErrorBars::standard_error;
  const std::string bars = ci ? "95 % bootstrap interval across " + std::to_string(sweep.sample_count) + " samples (max attention only)"
                           : se ? "± SE of the mean (std/√n)"
                                : "± 1 std over tokens (spread, not SE)";
  lines.push_back({std::string("points: mean over ") + std::to_string(sweep.token_count) + " tokens per condition; error bars: " + bars +
                       (sweep.scaling() ? "; x: scale, log axis" : ""),
                   style.muted_text});
  if (!sweep.control_choice.empty()) lines.push_back({"controls: " + sweep.control_choice, style.muted_text});
  const float heading = draw_heading(canvas, frame, sweep_view_title(sweep), lines);
  const std::size_t heads = sweep.head_count(), conditions = sweep.condition_count();
  if (heads == 0 || conditions == 0) {
    plot::draw_placeholder(canvas, {{frame.min.x, frame.min.y + heading}, frame.max}, "sweep", "no conditions in the file");
    return;
  }
  if (!sweep.baseline_done || (sweep.scaling() && sweep.conditions_done() == 0)) {
    plot::draw_placeholder(canvas, {{frame.min.x, frame.min.y + heading}, frame.max}, "sweep",
                           sweep.baseline_done ? "baseline and checks done; waiting for the first scale"
                                               : "running the baseline and the checks …");
    return;
  }
  // Pending conditions are NaN in the file: no point, and the line stops (scales arrive in ascending
  // order); the x axis spans every scale from the start so it stays put while the sweep fills in.
  const bool scaling = sweep.scaling();
  const std::string provisional = sweep.complete ? "" : " (provisional)";
  float fit_from = INFINITY, fit_to = -INFINITY;  // the fit spans the scales measured
  for (std::size_t c = 0; c < conditions && scaling; ++c)
    if (sweep.condition_is_done(c)) {
      fit_from = std::min(fit_from, static_cast<float>(std::log10(sweep.scales[c])));
      fit_to = std::max(fit_to, static_cast<float>(std::log10(sweep.scales[c])));
    }
  // x per point: log10(scale), or for ablations the category (0 = baseline, then each condition).
  const std::size_t points = scaling ? conditions : conditions + 1;
  std::vector<float> xs(points);
  for (std::size_t c = 0; c < points; ++c) xs[c] = scaling ? static_cast<float>(std::log10(sweep.scales[c])) : static_cast<float>(c);
  // Values by [metric][head][point], kept alive until each end_plot().
  std::vector<std::vector<float>> mean(heads, std::vector<float>(points)), error(heads, std::vector<float>(points));
  std::vector<std::vector<float>> error_mid(heads, std::vector<float>(points));
  const float width = (frame.width() - 2 * style.padding) / kSweepMetrics;
  for (int m = 0; m < kSweepMetrics; ++m) {
    for (std::size_t h = 0; h < heads; ++h)
      for (std::size_t p = 0; p < points; ++p) {
        double value, spread, n;
        if (!scaling && p == 0) {
          value = sweep.baseline_mean[m][h], spread = sweep.baseline_std[m][h], n = sweep.at(sweep.count[m], 0, h);
        } else {
          const std::size_t c = scaling ? p : p - 1;
          value = sweep.at(sweep.mean[m], c, h), spread = sweep.at(sweep.spread_std[m], c, h), n = sweep.at(sweep.count[m], c, h);
        }
        mean[h][p] = static_cast<float>(value);
        error[h][p] = static_cast<float>(se ? (n > 0 ? spread / std::sqrt(n) : NAN) : spread);
        if (ci) {  // an asymmetric interval, drawn as a bar centred on its middle
          const bool has = m == 1 && scaling;
          const double low = has ? sweep.at(sweep.max_attention_ci_low, p, h) : NAN, high = has ? sweep.at(sweep.max_attention_ci_high, p, h) : NAN;
          error_mid[h][p] = static_cast<float>((low + high) / 2);
          error[h][p] = static_cast<float>((high - low) / 2);
        }
      }
    const float left = frame.min.x + style.padding + width * static_cast<float>(m);
    const plot::Rect rect{{left, frame.min.y + heading}, {left + width, frame.max.y}};
    if (!plot::begin_plot(canvas, std::string("sweep-") + sweep_metric_file_name(m), rect, &state.panels[m],
                          plot::plot_no_frame_background))
      continue;
    plot::setup_title(metric_title(m));
    if (scaling) {
      plot::setup_axis(plot::Axis::x, "scale (log axis)", plot::axis_log10);
      const double span = xs.back() - xs.front();
      const double pad = span > 0 ? span * 0.06 : 0.05;
      plot::setup_axis_limits(plot::Axis::x, xs.front() - pad, xs.back() + pad);
    } else {
      auto names = std::make_shared<std::vector<std::string>>();
      names->push_back("baseline");
      for (const auto& name : sweep.condition_names) names->push_back(name);
      plot::setup_axis(plot::Axis::x, "condition");
      plot::setup_axis_categories(plot::Axis::x, static_cast<std::int64_t>(points),
                                  [names](std::int64_t i) { return (*names)[static_cast<std::size_t>(i)]; });
      plot::setup_axis_limits(plot::Axis::x, -0.5, static_cast<double>(points) - 0.5);
    }
    plot::setup_axis(plot::Axis::y, "", plot::axis_flags_none);
    std::vector<std::vector<float>> fit_x(heads), fit_y(heads);
    for (std::size_t h = 0; h < heads; ++h) {
      const plot::Color color = plot::cycle_color(static_cast<int>(h));
      const std::string name = sweep.head_names[h] + (h == 0 ? " (target)" : "");
      plot::set_next_item_style({color, h == 0 ? 2.0f : 1.25f, 0, 0.25f});
      plot::plot_error_bars("##err" + std::to_string(h), xs.data(), (ci ? error_mid : mean)[h].data(), error[h].data(),
                            static_cast<int>(points));
      const bool fitted = m == 1 && scaling && std::isfinite(sweep.gain[h]);
      plot::set_next_item_style({color, h == 0 ? 2.0f : 1.25f, h == 0 ? 4.0f : 3.0f, 0.25f});
      plot::plot_line(fitted ? "##" + name : name, xs.data(), mean[h].data(), static_cast<int>(points));
      if (fitted) {  // the fit over the scale range, labelled with the gain ± SE
        const double ln10 = std::log(10.0);
        fit_x[h] = {fit_from, fit_to};
        for (float x : fit_x[h]) fit_y[h].push_back(static_cast<float>(sweep.gain_intercept[h] + sweep.gain[h] * x * ln10));
        const std::string label = name + ": gain " + plot::format_number(sweep.gain[h]) + " ± " +
                                  plot::format_number(sweep.gain_se[h]) + ", R² " + plot::format_number(sweep.gain_r_squared[h]) +
                                  (h == 0 ? provisional : "");
        plot::set_next_item_style({color.with_alpha(0.55f), 1.0f, 0, 0.25f});
        plot::plot_line(label, fit_x[h].data(), fit_y[h].data(), 2);
      }
    }
    plot::end_plot();
  }
}

void sweep_view_controls(SweepViewState& state) {
  int choice = static_cast<int>(state.error_bars);
  ImGui::TextUnformatted("error bars:");
  const char* names[] = {"± std", "± SE", "95 % CI across samples"};
  for (int i = 0; i < 3; ++i) {
    ImGui::SameLine();
    if (ImGui::RadioButton(names[i], choice == i)) choice = i;
  }
  state.error_bars = static_cast<SweepErrorBars>(choice);
}

}  // namespace headscope::views
