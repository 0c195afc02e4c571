// The gain-comparison view (see sweep_gains.h): bars drawn through the plotting layer, the ratio and
// verdict table as canvas text so screen and export match.
#include "views/sweep_gains.h"

#include <cmath>
#include <memory>

#include "views/plot/ticks.h"
#include "views/sweep_view.h"
#include "views/view_common.h"

namespace headscope::views {

std::string sweep_gains_title(const SweepData& sweep) {
  const std::size_t controls = sweep.head_count() > 0 ? sweep.head_count() - 1 : 0;
  return "gains: " + sweep.intervention + " of " + sweep.target + " vs " + std::to_string(controls) + " control" +
         (controls == 1 ? "" : "s");
}

namespace {

// " [low, high]" of ratio `control` (-1: against the mean control), or "" without intervals.
std::string interval_words(const SweepData& sweep, int control) {
  if (!sweep.has_intervals()) return "";
  const double low = control < 0 ? sweep.ratio_versus_mean_control_ci_low : sweep.ratio_ci_low[static_cast<std::size_t>(control)];
  const double high = control < 0 ? sweep.ratio_versus_mean_control_ci_high : sweep.ratio_ci_high[static_cast<std::size_t>(control)];
  return " [" + plot::format_number(low) + ", " + plot::format_number(high) + "]";
}

}  // namespace

void draw_sweep_gains(plot::Canvas& canvas, plot::Rect frame, const SweepData& sweep, SweepGainsState& state) {
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  const float heading = draw_heading(canvas, frame, sweep_gains_title(sweep), sweep_verdict_heading(sweep));
  const std::size_t heads = sweep.head_count();
  if (!sweep.scaling() || heads == 0) {
    plot::draw_placeholder(canvas, {{frame.min.x, frame.min.y + heading}, frame.max}, "gains",
                           "no gain: this sweep is an ablation (no scales to fit against)");
    return;
  }
  if (!sweep.complete && !(heads > 0 && std::isfinite(sweep.gain[0]))) {
    plot::draw_placeholder(canvas, {{frame.min.x, frame.min.y + heading}, frame.max}, "gains",
                           "gains appear once 3 scales are in (" + std::to_string(sweep.conditions_done()) + " of " +
                               std::to_string(sweep.condition_count()) + " so far)");
    return;
  }
  // Bars on the left 55 %, the table on the right.
  const float split = frame.min.x + frame.width() * 0.55f;
  const plot::Rect bars_rect{{frame.min.x + style.padding, frame.min.y + heading}, {split, frame.max.y}};
  std::vector<float> target(heads, NAN), controls(heads, NAN), gains(heads), errors(heads), xs(heads);
  std::vector<float> ci_x(heads), ci_mid(heads), ci_half(heads);
  for (std::size_t h = 0; h < heads; ++h) {
    gains[h] = static_cast<float>(sweep.gain[h]);
    errors[h] = static_cast<float>(sweep.gain_se[h]);
    xs[h] = static_cast<float>(h);
    (h == 0 ? target : controls)[h] = gains[h];
  }
  if (plot::begin_plot(canvas, "sweep-gains", bars_rect, &state.bars, plot::plot_no_frame_background)) {
    plot::setup_title(sweep.has_intervals() ? "gain ± SE and 95 % CI across samples (max attention per ln scale)"
                                            : "gain ± SE (max attention per ln scale)");
    auto names = std::make_shared<std::vector<std::string>>(sweep.head_names);
    plot::setup_axis(plot::Axis::x, "head");
    plot::setup_axis_categories(plot::Axis::x, static_cast<std::int64_t>(heads),
                                [names](std::int64_t i) { return (*names)[static_cast<std::size_t>(i)]; });
    plot::setup_axis_limits(plot::Axis::x, -0.6, static_cast<double>(heads) - 0.4);
    plot::setup_axis(plot::Axis::y, "gain (probability / ln scale)");
    plot::set_next_item_style({plot::cycle_color(0), 1.5f, 0, 0.75f});
    plot::plot_bars("target", target.data(), static_cast<int>(heads), 0.6);
    plot::set_next_item_style({{0.55f, 0.55f, 0.55f, 1}, 1.5f, 0, 0.6f});
    plot::plot_bars("controls", controls.data(), static_cast<int>(heads), 0.6);
    plot::set_next_item_style({style.frame, 1.5f, 0, 0.25f});
    plot::plot_error_bars("± SE", xs.data(), gains.data(), errors.data(), static_cast<int>(heads));
    if (sweep.has_intervals()) {  // the across-sample interval beside the SE, drawn about its middle
      for (std::size_t h = 0; h < heads; ++h) {
        ci_x[h] = xs[h] + 0.22f;
        ci_mid[h] = static_cast<float>((sweep.gain_ci_low[h] + sweep.gain_ci_high[h]) / 2);
        ci_half[h] = static_cast<float>((sweep.gain_ci_high[h] - sweep.gain_ci_low[h]) / 2);
      }
      plot::set_next_item_style({plot::cycle_color(3), 1.5f, 0, 0.25f});
      plot::plot_error_bars("95 % CI across samples", ci_x.data(), ci_mid.data(), ci_half.data(), static_cast<int>(heads));
    }
    plot::set_next_item_style({style.muted_text, 1.0f, 0, 0.25f});
    plot::plot_reference_line("##zero", plot::Axis::y, 0);
    plot::end_plot();
  }
  // The table: ratios and verdicts, then per-head fit quality and trends.
  const float x = split + 2 * style.padding, size = style.tick_font_size, step = size + 5;
  float y = frame.min.y + heading + style.padding;
  canvas.text({x, y}, "target / control gain ratio", style.text, style.label_font_size);
  y += step + 2;
  if (!sweep.complete) {
    canvas.text({x, y}, "when every scale is in; gains so far are provisional", style.muted_text, size);
    y += step;
  }
  for (std::size_t c = 0; c < sweep.ratio.size(); ++c) {
    const std::string control = c + 1 < heads ? sweep.head_names[c + 1] : "?";
    canvas.text({x, y}, sweep.target + " / " + control + " = " + plot::format_number(sweep.ratio[c]) + interval_words(sweep, c) +
                            "  — " + sweep.verdicts[c],
                style.text, size);
    y += step;
    if (c < sweep.control_flat.size() && sweep.has_intervals()) {
      canvas.text({x + 12, y}, control + (sweep.control_flat[c] ? " is flat: its gain's 95 % CI contains 0"
                                                                 : " is NOT flat: its gain's 95 % CI excludes 0"),
                  sweep.control_flat[c] ? pass_color() : fail_color(), size);
      y += step;
    }
  }
  if (sweep.ratio.size() > 1 || std::isfinite(sweep.ratio_versus_mean_control)) {
    canvas.text({x, y}, "vs mean control = " + plot::format_number(sweep.ratio_versus_mean_control) + interval_words(sweep, -1) + "  — " +
                            sweep.verdict_versus_mean_control,
                style.text, size);
    y += step;
  }
  y += step / 2;
  canvas.text({x, y}, "per head: gain ± SE, R², trends (entropy / max attn / k90)", style.text, style.label_font_size);
  y += step + 2;
  for (std::size_t h = 0; h < heads; ++h) {
    std::string row = sweep.head_names[h] + " " + sweep.roles[h] + ": ";
    row += std::isfinite(sweep.gain[h]) ? plot::format_number(sweep.gain[h]) + " ± " + plot::format_number(sweep.gain_se[h]) +
                                              ", R² " + plot::format_number(sweep.gain_r_squared[h])
                                        : "not fitted (" + sweep.gain_notes[h] + ")";
    canvas.text({x, y}, row, plot::cycle_color(static_cast<int>(h)), size);
    y += step;
    std::string trends = sweep.trends[0][h] + " / " + sweep.trends[1][h] + " / " + sweep.trends[2][h];
    if (h < sweep.moves_most.size() && !sweep.moves_most[h].empty()) trends += "; moves most: " + sweep.moves_most[h];
    canvas.text({x + 12, y}, trends, style.muted_text, size);
    y += step;
  }
  if (!sweep.expected_directions.empty()) {
    y += step / 2;
    canvas.text({x, y}, "expected:", style.muted_text, size);
    y += step;
    for (const auto& line : sweep.expected_directions) {
      canvas.text({x + 12, y}, line, style.muted_text, size);
      y += step;
    }
  }
}

}  // namespace headscope::views
