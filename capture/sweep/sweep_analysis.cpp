// The torch-free half of a sweep (see sweep.h): kind names and expected directions, the gain fits,
// trend calls and target/control verdicts, the null-result line, and the text reports the CLI prints.
// Sections: 1. names  2. analyse_sweep  3. reports.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "capture/sweep/sweep.h"
#include "core/store/sweep_file.h"

namespace headscope::sweep {

// 1. Names -----------------------------------------------------------------------------------------------
const char* sweep_kind_name(SweepKind kind) {
  switch (kind) {
    case SweepKind::query_scale: return "query_scale";
    case SweepKind::key_scale: return "key_scale";
    case SweepKind::ablate_zero: return "ablate_zero";
    case SweepKind::ablate_mean: return "ablate_mean";
  }
  return "?";
}

SweepKind parse_sweep_kind(const std::string& text) {
  if (text == "query" || text == "query_scale" || text == "query-scale") return SweepKind::query_scale;
  if (text == "key" || text == "key_scale" || text == "key-scale") return SweepKind::key_scale;
  if (text == "ablate-zero" || text == "ablate_zero") return SweepKind::ablate_zero;
  if (text == "ablate-mean" || text == "ablate_mean") return SweepKind::ablate_mean;
  throw std::invalid_argument("unknown sweep kind '" + text + "' (query, key, ablate-zero or ablate-mean)");
}

const char* control_draw_name(ControlDraw draw) {
  switch (draw) {
    case ControlDraw::given: return "given";
    case ControlDraw::random: return "random";
    case ControlDraw::matched: return "matched";
  }
  return "?";
}

ControlDraw parse_control_draw(const std::string& text) {
  for (ControlDraw draw : {ControlDraw::given, ControlDraw::random, ControlDraw::matched})
    if (text == control_draw_name(draw)) return draw;
  throw std::invalid_argument("unknown control draw '" + text + "' (random or matched)");
}

bool is_scaling(SweepKind kind) { return kind == SweepKind::query_scale || kind == SweepKind::key_scale; }

std::vector<std::string> expected_directions(SweepKind kind) {
  if (is_scaling(kind))
    return {"entropy: down as the scale grows (a sharper softmax)", "max_attention: up as the scale grows",
            "k90: down as the scale grows (fewer keys hold 90% of the mass)"};
  return {"the head's own entropy, max_attention, k90: unchanged (ablation replaces its output, after its attention)",
          "next-token loss: up when the head matters to the model"};
}

// The names and units are the file's (core/store/sweep_file.h).
const char* sweep_metric_name(int metric) { return store::sweep_metric_name(metric); }
const char* sweep_metric_units(int metric) { return store::sweep_metric_units(metric); }

// 2. analyse_sweep ----------------------------------------------------------------------------------------
static const analysis::Trend kExpectedTrend[kSweepMetricCount] = {analysis::Trend::decreasing, analysis::Trend::increasing,
                                                                  analysis::Trend::decreasing};

std::size_t SweepResult::conditions_done() const {
  return static_cast<std::size_t>(std::count(condition_done.begin(), condition_done.end(), std::uint8_t{1}));
}

bool SweepResult::complete() const {
  return baseline_done && condition_done.size() == conditions.size() && conditions_done() == conditions.size();
}

namespace {

// HeadGain::effect and moves_most from the per-condition means of each metric (by_metric[m][condition]).
void note_effects(HeadGain& gain, const std::vector<double>& scales, const std::vector<double> (&by_metric)[kSweepMetricCount],
                  const HeadCondition* baseline) {
  gain.moves_most = -1;
  double largest = 0;
  for (int m = 0; m < kSweepMetricCount; ++m) {
    gain.effect[m] = std::nan("");
    if (!baseline || scales.size() < 2) continue;
    try {
      const auto fit = analysis::fit_gain(scales, by_metric[m]);
      const double range = std::log(scales.back() / scales.front());
      const double spread = baseline->metrics[m].std;
      if (spread > 0 && std::isfinite(fit.slope)) gain.effect[m] = fit.slope * range / spread;
    } catch (const analysis::GainError&) {
    }
    if (std::isfinite(gain.effect[m]) && std::abs(gain.effect[m]) > largest) largest = std::abs(gain.effect[m]), gain.moves_most = m;
  }
}

// One metric's per-sample means as the bootstrap takes them, [condition, head, sample].
analysis::SweepSampleMeans sample_means(const SweepResult& r, int metric) {
  analysis::SweepSampleMeans data;
  data.conditions = r.conditions_by_head.size();
  data.heads = r.heads.size();
  data.samples = static_cast<std::size_t>(r.sample_count);
  data.mean.assign(data.conditions * data.heads * data.samples, std::nan(""));
  data.n.assign(data.mean.size(), 0);
  for (std::size_t c = 0; c < data.conditions; ++c)
    for (std::size_t h = 0; h < data.heads && h < r.conditions_by_head[c].size(); ++h) {
      const auto& cell = r.conditions_by_head[c][h];
      for (std::size_t s = 0; s < data.samples && s < cell.sample_mean[metric].size(); ++s) {
        data.mean[(c * data.heads + h) * data.samples + s] = cell.sample_mean[metric][s];
        data.n[(c * data.heads + h) * data.samples + s] = cell.sample_n[metric][s];
      }
    }
  return data;
}

}  // namespace

void analyse_sweep(SweepResult& result) {
  const std::size_t heads = result.heads.size();
  const bool complete = result.complete();
  result.gains.assign(heads, HeadGain{});
  result.comparisons.clear();
  result.null_result.clear();
  result.bootstrap = analysis::SweepBootstrap{};
  result.versus_mean_control = analysis::compare_gains(std::nan(""), std::nan(""));
  if (!is_scaling(result.kind)) {
    for (auto& gain : result.gains) gain.note = "ablation: no dose, no gain";
    if (complete && !result.conditions_by_head.empty() && !result.conditions_by_head[0].empty() &&
        std::abs(result.conditions_by_head[0][0].loss_delta) < 1e-6)
      result.null_result = "ablating the target does not change the next-token loss (|delta| < 1e-6 nats)";
    return;
  }
  // The conditions measured so far; a partial sweep fits a gain only once 3 are in (a standard error).
  std::vector<std::size_t> done;
  for (std::size_t c = 0; c < result.conditions_by_head.size(); ++c)
    if (c < result.condition_done.size() && result.condition_done[c]) done.push_back(c);
  std::vector<double> scales;
  for (std::size_t c : done) scales.push_back(result.scales[c]);
  for (std::size_t h = 0; h < heads; ++h) {
    auto& gain = result.gains[h];
    std::vector<double> by_metric[kSweepMetricCount];
    for (std::size_t c : done)
      for (int m = 0; m < kSweepMetricCount; ++m) by_metric[m].push_back(result.conditions_by_head[c][h].metrics[m].mean);
    for (int m = 0; m < kSweepMetricCount; ++m) {
      gain.trends[m] = analysis::classify_trend(by_metric[m]);
      gain.as_expected[m] = gain.trends[m] == kExpectedTrend[m];
    }
    if (!complete && done.size() < 3) {
      gain.note = "pending: " + std::to_string(done.size()) + " of " + std::to_string(result.scales.size()) + " scales measured";
      continue;
    }
    try {
      gain.fit = analysis::fit_gain(scales, by_metric[1]);
      gain.fitted = true;
    } catch (const analysis::GainError& error) {
      gain.note = error.what();
    }
    note_effects(gain, scales, by_metric, result.baseline.size() > h ? &result.baseline[h] : nullptr);
  }
  if (!complete) return;  // ratios, intervals and the verdict wait for every scale
  result.bootstrap = analysis::bootstrap_sweep(result.scales, sample_means(result, 1), result.bootstrap_options);
  double control_sum = 0;
  int control_count = 0;
  for (std::size_t h = 1; h < heads; ++h) {
    const double control = result.gains[h].fitted ? result.gains[h].fit.slope : std::nan("");
    result.comparisons.push_back(analysis::compare_gains(result.gains[0].fitted ? result.gains[0].fit.slope : std::nan(""), control));
    if (std::isfinite(control)) { control_sum += control; ++control_count; }
  }
  if (control_count > 0 && result.gains[0].fitted)
    result.versus_mean_control = analysis::compare_gains(result.gains[0].fit.slope, control_sum / control_count);

  // A null result is said in words, whichever way it falls.
  std::ostringstream null;
  const auto& target = result.gains[0];
  if (!target.fitted) null << "the target's gain could not be fitted (" << target.note << "); ";
  else if (std::isfinite(target.fit.slope_se) && std::abs(target.fit.slope) <= 2 * target.fit.slope_se)
    null << "the target's gain is within 2 SE of 0; ";
  else if (target.fit.slope == 0)
    null << "the target's max attention does not move with the scale; ";
  else if (!result.bootstrap.gain.empty() && result.bootstrap.gain[0].contains(0.0))
    null << "the target's gain 95 % interval across samples contains 0; ";
  if (target.trends[1] != analysis::Trend::increasing) null << "the target's max attention is not monotonic increasing; ";
  if (heads > 1 && result.versus_mean_control.verdict == analysis::GainVerdict::no_clear_difference)
    null << "the target is no more sensitive than the controls (ratio < " << analysis::kGainHigherSensitivity << "); ";
  if (heads > 1 && result.versus_mean_control.verdict == analysis::GainVerdict::undefined)
    null << "the target/control ratio is undefined; ";
  result.null_result = null.str();
  if (result.null_result.size() >= 2) result.null_result.resize(result.null_result.size() - 2);
}

// 3. Reports ---------------------------------------------------------------------------------------------
static std::string printf_string(const char* format, double a, double b) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, a, b);
  return buffer;
}

static std::string interval_words(const analysis::Interval& interval) {
  return printf_string("[%.5g, %.5g]", interval.low, interval.high);
}

std::string format_sweep_report(const SweepResult& r) {
  std::ostringstream out;
  out << "sweep " << sweep_kind_name(r.kind) << " on " << r.model_name << ": target " << store::head_name(r.heads[0]);
  if (r.heads.size() > 1) {
    out << ", controls";
    for (std::size_t h = 1; h < r.heads.size(); ++h) out << " " << store::head_name(r.heads[h]);
  }
  out << "; " << r.sample_count << " sample(s), " << r.token_count << " tokens per condition\n";
  if (!r.control_choice.empty()) out << "controls: " << r.control_choice << "\n";
  out << "baseline next-token loss " << printf_string("%.5f", r.baseline_loss, 0) << " nats\n\n";
  out << "head     condition        entropy (mean ± std)  max_attention (mean ± std)  k90 (mean ± std)   loss delta\n";
  for (std::size_t h = 0; h < r.heads.size(); ++h) {
    auto row = [&](const std::string& name, const HeadCondition& c, bool baseline) {
      char line[200];
      std::snprintf(line, sizeof line, "%-8s %-16s %8.4f ± %-8.4f     %8.4f ± %-8.4f          %7.3f ± %-7.3f  %s\n",
                    name.c_str(), baseline ? "baseline" : "", c.metrics[0].mean, c.metrics[0].std, c.metrics[1].mean,
                    c.metrics[1].std, c.metrics[2].mean, c.metrics[2].std,
                    baseline ? "" : printf_string("%+.5f", c.loss_delta, 0).c_str());
      return std::string(line);
    };
    out << row(store::head_name(r.heads[h]), r.baseline[h], true);
    for (std::size_t c = 0; c < r.conditions.size(); ++c) {
      std::string line = row("", r.conditions_by_head[c][h], false);
      line.replace(9, r.conditions[c].size(), r.conditions[c]);
      out << line;
    }
  }
  out << "\n";
  if (is_scaling(r.kind)) {
    out << "gain = OLS slope of mean max_attention on ln(scale), ± its standard error\n";
    for (std::size_t h = 0; h < r.heads.size(); ++h) {
      const auto& g = r.gains[h];
      out << "  " << (h == 0 ? "target  " : "control ") << store::head_name(r.heads[h]) << "  ";
      if (!g.fitted) { out << "no fit: " << g.note << "\n"; continue; }
      out << printf_string("gain %.5f ± %.5f", g.fit.slope, g.fit.slope_se) << printf_string(", R² %.4f", g.fit.r_squared, 0);
      for (int m = 0; m < kSweepMetricCount; ++m)
        out << "; " << sweep_metric_name(m) << " " << analysis::trend_name(g.trends[m])
            << (g.as_expected[m] ? " (as expected)" : " (NOT as expected)");
      out << "\n";
      if (h < r.bootstrap.gain.size() && r.bootstrap.resamples > 0)
        out << "           95 % interval across samples " << interval_words(r.bootstrap.gain[h])
            << (h > 0 && r.bootstrap.control_flat[h - 1] ? " (contains 0: this control is FLAT)"
                : h > 0                                  ? " (excludes 0: this control is NOT flat)"
                                                         : "")
            << "\n";
      if (g.moves_most >= 0) {
        out << "           moves most: " << sweep_metric_name(g.moves_most) << " (change over the sweep in baseline std:";
        for (int m = 0; m < kSweepMetricCount; ++m) out << " " << sweep_metric_name(m) << printf_string(" %+.3f", g.effect[m], 0);
        out << ")\n";
      }
    }
    const bool intervals = r.bootstrap.resamples > 0;
    for (std::size_t c = 0; c < r.comparisons.size(); ++c)
      out << "  ratio target/" << store::head_name(r.heads[c + 1]) << " = " << printf_string("%.3f", r.comparisons[c].ratio, 0)
          << (intervals && c < r.bootstrap.ratio.size() ? " " + interval_words(r.bootstrap.ratio[c]) : "") << " -> "
          << analysis::gain_verdict_words(r.comparisons[c].verdict) << "\n";
    if (r.comparisons.size() > 1)
      out << "  ratio target/mean of controls = " << printf_string("%.3f", r.versus_mean_control.ratio, 0)
          << (intervals ? " " + interval_words(r.bootstrap.ratio_versus_mean_control) : "") << " -> "
          << analysis::gain_verdict_words(r.versus_mean_control.verdict) << "\n";
    if (intervals)
      out << "  intervals: " << static_cast<int>(r.bootstrap.confidence * 100 + 0.5) << " % percentile bootstrap over samples, "
          << r.bootstrap.resamples << " resamples, seed " << r.bootstrap.seed << "\n";
    else if (!r.bootstrap.note.empty())
      out << "  intervals: none (" << r.bootstrap.note << ")\n";
  }
  out << "\nchecks\n";
  for (const CheckResult* check : {&r.sanity, &r.isolation})
    out << "  " << check->name << ": " << (check->passed ? "PASS" : "FAIL") << " — " << check->detail << "\n";
  out << "\nresult: " << (r.null_result.empty() ? "an effect in the expected direction; no null result" : "NULL RESULT — " + r.null_result)
      << "\n";
  return out.str();
}

std::string format_gain_scan(const GainScanResult& r) {
  std::ostringstream out;
  out << "gain scan (" << sweep_kind_name(r.kind) << ") on " << r.model_name << ": " << r.rows.size() << " heads, "
      << r.sample_count << " sample(s), " << r.token_count << " tokens; scales";
  for (double s : r.scales) out << " " << s;
  out << "; " << r.controls_per_head << " random control(s) per head, seed " << r.seed << "\n";
  out << "rank  head     gain ± SE              R²      trend            control gain  ratio    verdict\n";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    char line[220];
    std::snprintf(line, sizeof line, "%4zu  %-7s  %9.5f ± %-9.5f  %6.4f  %-15s  %11.5f  %7.3f  %s\n", i + 1,
                  store::head_name(row.head).c_str(), row.fit.slope, row.fit.slope_se, row.fit.r_squared,
                  analysis::trend_name(row.trend), row.control_gain, row.comparison.ratio,
                  analysis::gain_verdict_words(row.comparison.verdict));
    out << line;
  }
  return out.str();
}

}  // namespace headscope::sweep
