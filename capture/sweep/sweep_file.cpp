// Sweep and gain-scan results to their files: each result is turned into the plain structs of
// core/store/sweep_file.h (names, NaN where not fitted, verdicts and trends in words) and written by the
// store's one writer (docs/store-format.md, "Sweep files").
#include <cmath>

#include "capture/sweep/sweep.h"
#include "core/store/sweep_file.h"

namespace headscope::sweep {

namespace {

store::SweepCheck to_check(const CheckResult& check) {
  return {!check.name.empty(), check.passed, check.bitwise, check.max_abs_difference, check.tolerance, check.detail};
}

// Per-sample means, bootstrap intervals and effects.
void fill_across_samples(store::SweepFile& f, const SweepResult& r) {
  f.control_choice = r.control_choice;
  const auto samples = static_cast<std::size_t>(r.sample_count);
  for (int m = 0; m < kSweepMetricCount; ++m)
    for (const auto& row : r.conditions_by_head)
      for (const auto& c : row)
        for (std::size_t s = 0; s < samples; ++s) {
          f.sample_mean[m].push_back(s < c.sample_mean[m].size() ? c.sample_mean[m][s] : std::nan(""));
          f.sample_n[m].push_back(s < c.sample_n[m].size() ? c.sample_n[m][s] : 0);
        }
  const auto& b = r.bootstrap;
  f.bootstrap_resamples = b.resamples;
  f.bootstrap_seed = static_cast<std::int64_t>(b.seed);
  f.bootstrap_confidence = b.confidence;
  f.bootstrap_note = b.note;
  f.ratio_versus_mean_control_ci_low = b.ratio_versus_mean_control.low;
  f.ratio_versus_mean_control_ci_high = b.ratio_versus_mean_control.high;
  if (b.gain.size() == r.heads.size()) {
    for (const auto& i : b.gain) f.gain_ci_low.push_back(i.low), f.gain_ci_high.push_back(i.high);
    for (const auto& i : b.ratio) f.ratio_ci_low.push_back(i.low), f.ratio_ci_high.push_back(i.high);
    for (auto flat : b.control_flat) f.control_flat.push_back(flat);
    for (const auto& i : b.condition_mean) f.max_attention_ci_low.push_back(i.low), f.max_attention_ci_high.push_back(i.high);
  }
  for (const auto& g : r.gains) {
    for (int m = 0; m < kSweepMetricCount; ++m) f.effect.push_back(g.effect[m]);
    f.moves_most.push_back(g.moves_most >= 0 ? sweep_metric_name(g.moves_most) : "");
  }
}

store::SweepFile to_sweep_file(const SweepResult& r, const std::string& command_line) {
  store::SweepFile f;
  f.command_line = command_line;
  f.model_name = r.model_name;
  f.model_config_json = r.model_config_json;
  f.intervention = sweep_kind_name(r.kind);
  f.target = store::head_name(r.heads[0]);
  f.expected_directions = expected_directions(r.kind);
  f.sample_count = r.sample_count;
  f.token_count = r.token_count;
  f.baseline_loss = r.baseline_loss;
  f.null_result = r.null_result;
  f.scales = r.scales;
  f.condition_names = r.conditions;
  f.heads = r.heads;
  for (const auto& head : r.heads) f.head_names.push_back(store::head_name(head));
  f.roles.assign(r.heads.size(), "control");
  f.roles[0] = "target";
  for (int m = 0; m < kSweepMetricCount; ++m) {
    for (const auto& row : r.conditions_by_head)
      for (const auto& c : row) {
        f.mean[m].push_back(c.metrics[m].mean);
        f.spread_std[m].push_back(c.metrics[m].std);
        f.count[m].push_back(static_cast<double>(c.metrics[m].n));
      }
    for (const auto& b : r.baseline) {
      f.baseline_mean[m].push_back(b.metrics[m].mean);
      f.baseline_std[m].push_back(b.metrics[m].std);
      f.baseline_count[m].push_back(static_cast<double>(b.metrics[m].n));
    }
  }
  for (const auto& row : r.conditions_by_head)
    for (const auto& c : row) {
      f.loss.push_back(c.loss);
      f.loss_delta.push_back(c.loss_delta);
    }
  const double nan = std::nan("");
  for (const auto& g : r.gains) {
    f.gain.push_back(g.fitted ? g.fit.slope : nan);
    f.gain_se.push_back(g.fitted ? g.fit.slope_se : nan);
    f.gain_r_squared.push_back(g.fitted ? g.fit.r_squared : nan);
    f.gain_intercept.push_back(g.fitted ? g.fit.intercept : nan);
    f.gain_fitted.push_back(g.fitted);
    f.gain_notes.push_back(g.note);
    for (int m = 0; m < kSweepMetricCount; ++m) f.trends[m].push_back(analysis::trend_name(g.trends[m]));
  }
  for (const auto& c : r.comparisons) {
    f.ratio.push_back(c.ratio);
    f.verdicts.push_back(analysis::gain_verdict_words(c.verdict));
  }
  f.ratio_versus_mean_control = r.versus_mean_control.ratio;
  f.verdict_versus_mean_control = analysis::gain_verdict_words(r.versus_mean_control.verdict);
  fill_across_samples(f, r);
  f.sanity = to_check(r.sanity);
  f.isolation = to_check(r.isolation);
  f.complete = r.complete();
  f.baseline_done = r.baseline_done;
  f.condition_done.assign(r.condition_done.begin(), r.condition_done.end());
  return f;
}

}  // namespace

void write_sweep_file(const std::string& path, const SweepResult& result, const std::string& command_line, bool overwrite) {
  store::write_sweep_file(path, to_sweep_file(result, command_line), overwrite);
}

void write_gain_scan_file(const std::string& path, const GainScanResult& r, const std::string& command_line, bool overwrite) {
  store::GainScanFile f;
  f.command_line = command_line;
  f.model_name = r.model_name;
  f.model_config_json = r.model_config_json;
  f.intervention = sweep_kind_name(r.kind);
  f.sample_count = r.sample_count;
  f.token_count = r.token_count;
  f.seed = static_cast<std::int64_t>(r.seed);
  f.controls_per_head = r.controls_per_head;
  f.scales = r.scales;
  for (const auto& row : r.rows) {
    f.heads.push_back(row.head);
    f.controls.insert(f.controls.end(), row.controls.begin(), row.controls.end());
    f.gain.push_back(row.fit.slope);
    f.gain_se.push_back(row.fit.slope_se);
    f.gain_r_squared.push_back(row.fit.r_squared);
    f.max_attention_mean.insert(f.max_attention_mean.end(), row.max_attention_by_scale.begin(), row.max_attention_by_scale.end());
    f.control_gain.push_back(row.control_gain);
    f.ratio.push_back(row.comparison.ratio);
    f.verdicts.push_back(analysis::gain_verdict_words(row.comparison.verdict));
    f.trends.push_back(analysis::trend_name(row.trend));
  }
  store::write_gain_scan_file(path, f, overwrite);
}

}  // namespace headscope::sweep
