// Sweep and gain-scan results as HDF5 (docs/store-format.md, "Sweep files"): the store's root provenance
// with kind "sweep", the model's config.json, then one group of small fixed arrays — per (condition, head)
// mean / std / n of each metric, loss deltas, gains with SE and R², ratios, verdicts and both checks —
// each with dimension names, units and a description. Written to OUT.partial and renamed over OUT, so
// readers never see a half-written file; a running sweep rewrites it after each condition (small arrays,
// NaN where pending), and a sweep that dies leaves the last complete rewrite.
#include <hdf5.h>

#include <cmath>
#include <ctime>
#include <filesystem>

#include "capture/sweep/sweep.h"
#include "core/store/h5.h"
#include "core/store/schema.h"
#include "core/util/time.h"
#include "core/version.h"

namespace headscope::sweep {

namespace {

namespace sc = store::schema;
using h5::Id;


// Creates OUT.partial with the root provenance and /model; the caller fills the rest and calls finish().
Id create_result_file(const std::string& path, const std::string& partial, const std::string& command_line,
                      const std::string& model_name, const std::string& config_json, bool overwrite, bool complete) {
  h5::quiet_errors();
  if (!overwrite && std::filesystem::exists(path))
    throw store::StoreError(path + ": file exists (pass --overwrite to replace it)");
  Id file(h5::check(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), partial, "cannot create the file"));
  h5::write_attribute(file, sc::kFormat, std::string(store::kFormatName));
  h5::write_attribute(file, sc::kSchemaVersion, static_cast<std::int64_t>(store::kSchemaVersion));
  h5::write_attribute(file, sc::kKind, std::string(store::run_kind_name(store::RunKind::sweep)));
  h5::write_attribute(file, sc::kCreated, headscope::utc_now_iso());
  h5::write_attribute(file, sc::kToolVersion, std::string(HEADSCOPE_VERSION));
  h5::write_attribute(file, sc::kCommandLine, command_line);
  h5::write_attribute(file, sc::kComplete, std::int64_t{complete});
  Id model = h5::create_group(file, sc::kModel, partial);
  h5::write_attribute(model, "name", model_name);
  h5::write_string_dataset(model, "config_json", config_json.empty() ? "{}" : config_json, partial);
  return file;
}

void finish(Id& file, const std::string& partial, const std::string& path) {
  h5::check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), partial, "cannot flush");
  file.reset();
  std::filesystem::rename(partial, path);
}

void write_doubles(hid_t group, const std::string& name, const std::vector<double>& values, const std::vector<hsize_t>& dims,
                   const std::vector<std::string>& labels, const std::string& units, const std::string& description,
                   const std::string& context) {
  h5::write_array(group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, dims, values.data(), context, labels, units, description);
}

void write_int64s(hid_t group, const std::string& name, const std::vector<std::int64_t>& values, const std::vector<hsize_t>& dims,
                  const std::vector<std::string>& labels, const std::string& units, const std::string& description,
                  const std::string& context) {
  h5::write_array(group, name, H5T_STD_I64LE, H5T_NATIVE_INT64, dims, values.data(), context, labels, units, description);
}

void write_heads(hid_t group, const std::string& name, const std::vector<store::HeadRef>& heads, const std::string& dim,
                 const std::string& description, const std::string& context) {
  std::vector<std::int32_t> pairs;
  std::vector<std::string> names;
  for (const auto& head : heads) {
    pairs.push_back(head.layer);
    pairs.push_back(head.head);
    names.push_back(store::head_name(head));
  }
  h5::write_array(group, name, H5T_STD_I32LE, H5T_NATIVE_INT32, {heads.size(), 2}, pairs.data(), context, {dim, "layer_head"},
                  "", description);
  Id dataset = h5::open_dataset(group, name, context);
  h5::write_attribute(dataset, "names", names);
}

void write_check(hid_t parent, const std::string& name, const CheckResult& check, const std::string& context) {
  Id group = h5::create_group(parent, name, context);
  h5::write_attribute(group, "passed", std::int64_t{check.passed});
  h5::write_attribute(group, "bitwise", std::int64_t{check.bitwise});
  h5::write_attribute(group, "max_abs_difference", check.max_abs_difference);
  h5::write_attribute(group, "tolerance", check.tolerance);
  h5::write_attribute(group, "detail", check.detail);
}

}  // namespace

void write_sweep_file(const std::string& path, const SweepResult& r, const std::string& command_line, bool overwrite) {
  const std::string partial = path + ".partial";
  Id file = create_result_file(path, partial, command_line, r.model_name, r.model_config_json, overwrite, r.complete());
  Id group = h5::create_group(file, "/sweep", partial);
  h5::write_attribute(group, "intervention", std::string(sweep_kind_name(r.kind)));
  h5::write_attribute(group, "target", store::head_name(r.heads[0]));
  h5::write_attribute(group, "expected_directions", expected_directions(r.kind));
  h5::write_attribute(group, "sample_count", r.sample_count);
  h5::write_attribute(group, "token_count", r.token_count);
  h5::write_attribute(group, "baseline_loss", r.baseline_loss);
  h5::write_attribute(group, "null_result", r.null_result);
  h5::write_attribute(group, "spread", std::string("std = sample standard deviation (n - 1) over every token of every sample"));
  h5::write_attribute(group, "baseline_done", std::int64_t{r.baseline_done});
  h5::write_attribute(group, "conditions_done", static_cast<std::int64_t>(r.conditions_done()));

  const hsize_t conditions = r.scales.size(), heads = r.heads.size();
  write_doubles(group, "scales", r.scales, {conditions}, {"condition"}, "factor",
                "scale applied to the intervened head (NaN for an ablation)", partial);
  h5::write_attribute(Id(h5::open_dataset(group, "scales", partial)), "condition_names", r.conditions);
  std::vector<std::int64_t> done(r.condition_done.begin(), r.condition_done.end());
  done.resize(conditions, 0);
  write_int64s(group, "condition_done", done, {conditions}, {"condition"}, "",
               "1 once every measured head has this condition; a running sweep rewrites the file after each", partial);
  write_heads(group, "heads", r.heads, "head", "measured heads (layer, head): the target first, then the controls", partial);
  std::vector<std::string> roles(r.heads.size(), "control");
  roles[0] = "target";
  h5::write_attribute(Id(h5::open_dataset(group, "heads", partial)), "roles", roles);

  for (int m = 0; m < kSweepMetricCount; ++m) {
    const std::string metric = sweep_metric_name(m);
    std::vector<double> mean, spread, base_mean, base_spread;
    std::vector<std::int64_t> n, base_n;
    for (std::size_t c = 0; c < conditions; ++c)
      for (std::size_t h = 0; h < heads; ++h) {
        const auto& s = r.conditions_by_head[c][h].metrics[m];
        mean.push_back(s.mean);
        spread.push_back(s.std);
        n.push_back(s.n);
      }
    for (const auto& b : r.baseline) {
      base_mean.push_back(b.metrics[m].mean);
      base_spread.push_back(b.metrics[m].std);
      base_n.push_back(b.metrics[m].n);
    }
    const std::string what = " of " + metric + " over tokens and samples, the head intervened alone";
    write_doubles(group, metric + "_mean", mean, {conditions, heads}, {"condition", "head"}, sweep_metric_units(m), "mean" + what, partial);
    write_doubles(group, metric + "_std", spread, {conditions, heads}, {"condition", "head"}, sweep_metric_units(m), "sample std" + what, partial);
    write_int64s(group, metric + "_n", n, {conditions, heads}, {"condition", "head"}, "tokens", "tokens counted" + what, partial);
    const std::string base = " of " + metric + " without any intervention";
    write_doubles(group, "baseline_" + metric + "_mean", base_mean, {heads}, {"head"}, sweep_metric_units(m), "mean" + base, partial);
    write_doubles(group, "baseline_" + metric + "_std", base_spread, {heads}, {"head"}, sweep_metric_units(m), "sample std" + base, partial);
    write_int64s(group, "baseline_" + metric + "_n", base_n, {heads}, {"head"}, "tokens", "tokens counted" + base, partial);
  }
  std::vector<double> loss, loss_delta;
  for (const auto& row : r.conditions_by_head)
    for (const auto& c : row) {
      loss.push_back(c.loss);
      loss_delta.push_back(c.loss_delta);
    }
  write_doubles(group, "loss", loss, {conditions, heads}, {"condition", "head"}, "nats",
                "mean next-token cross-entropy over every predicted token, the head intervened alone", partial);
  write_doubles(group, "loss_delta", loss_delta, {conditions, heads}, {"condition", "head"}, "nats",
                "loss minus the baseline loss (no intervention)", partial);

  std::vector<double> gain, se, r2, intercept;
  std::vector<std::int64_t> fitted;
  std::vector<std::string> trends[kSweepMetricCount], notes;
  for (const auto& g : r.gains) {
    const double nan = std::nan("");
    gain.push_back(g.fitted ? g.fit.slope : nan);
    se.push_back(g.fitted ? g.fit.slope_se : nan);
    r2.push_back(g.fitted ? g.fit.r_squared : nan);
    intercept.push_back(g.fitted ? g.fit.intercept : nan);
    fitted.push_back(g.fitted);
    notes.push_back(g.note);
    for (int m = 0; m < kSweepMetricCount; ++m) trends[m].push_back(analysis::trend_name(g.trends[m]));
  }
  write_doubles(group, "gain", gain, {heads}, {"head"}, "probability per ln(scale)",
                "OLS slope of mean max_attention on ln(scale) (METRICS.md, Intervention gain); NaN when not fitted", partial);
  write_doubles(group, "gain_se", se, {heads}, {"head"}, "probability per ln(scale)", "standard error of the slope, from the residuals", partial);
  write_doubles(group, "gain_r_squared", r2, {heads}, {"head"}, "", "R² of the fit", partial);
  write_doubles(group, "gain_intercept", intercept, {heads}, {"head"}, "probability", "intercept (mean max_attention at scale 1)", partial);
  write_int64s(group, "gain_fitted", fitted, {heads}, {"head"}, "", "1 when a gain was fitted (scaling kinds)", partial);
  {
    Id dataset = h5::open_dataset(group, "gain", partial);
    h5::write_attribute(dataset, "notes", notes);
    for (int m = 0; m < kSweepMetricCount; ++m)
      h5::write_attribute(dataset, std::string("trend_") + sweep_metric_name(m), trends[m]);
  }
  std::vector<double> ratios;
  std::vector<std::string> verdicts;
  for (const auto& c : r.comparisons) {
    ratios.push_back(c.ratio);
    verdicts.push_back(analysis::gain_verdict_words(c.verdict));
  }
  write_doubles(group, "ratio", ratios, {ratios.size()}, {"control"}, "",
                "target gain / control gain, one per control (heads[1:])", partial);
  {
    Id dataset = h5::open_dataset(group, "ratio", partial);
    h5::write_attribute(dataset, "verdicts", verdicts);
    h5::write_attribute(dataset, "ratio_versus_mean_control", r.versus_mean_control.ratio);
    h5::write_attribute(dataset, "verdict_versus_mean_control", std::string(analysis::gain_verdict_words(r.versus_mean_control.verdict)));
  }
  if (r.baseline_done) {  // the checks run with the baseline
    Id checks = h5::create_group(group, "checks", partial);
    write_check(checks, "baseline_sanity", r.sanity, partial);
    write_check(checks, "isolation", r.isolation, partial);
  }
  group.reset();
  finish(file, partial, path);
}

void write_gain_scan_file(const std::string& path, const GainScanResult& r, const std::string& command_line, bool overwrite) {
  const std::string partial = path + ".partial";
  Id file = create_result_file(path, partial, command_line, r.model_name, r.model_config_json, overwrite, true);
  Id group = h5::create_group(file, "/gain_scan", partial);
  h5::write_attribute(group, "intervention", std::string(sweep_kind_name(r.kind)));
  h5::write_attribute(group, "sample_count", r.sample_count);
  h5::write_attribute(group, "token_count", r.token_count);
  h5::write_attribute(group, "seed", static_cast<std::int64_t>(r.seed));
  h5::write_attribute(group, "controls_per_head", static_cast<std::int64_t>(r.controls_per_head));
  const hsize_t rows = r.rows.size(), scales = r.scales.size();
  write_doubles(group, "scales", r.scales, {scales}, {"scale"}, "factor", "scales applied to every head of the layer at once", partial);
  std::vector<store::HeadRef> heads, controls;
  std::vector<double> gain, se, r2, curve, control_gain, ratio;
  std::vector<std::string> verdicts, trends;
  for (const auto& row : r.rows) {
    heads.push_back(row.head);
    controls.insert(controls.end(), row.controls.begin(), row.controls.end());
    gain.push_back(row.fit.slope);
    se.push_back(row.fit.slope_se);
    r2.push_back(row.fit.r_squared);
    curve.insert(curve.end(), row.max_attention_by_scale.begin(), row.max_attention_by_scale.end());
    control_gain.push_back(row.control_gain);
    ratio.push_back(row.comparison.ratio);
    verdicts.push_back(analysis::gain_verdict_words(row.comparison.verdict));
    trends.push_back(analysis::trend_name(row.trend));
  }
  write_heads(group, "heads", heads, "rank", "heads ranked by gain, highest first (layer, head)", partial);
  write_doubles(group, "gain", gain, {rows}, {"rank"}, "probability per ln(scale)", "OLS slope of mean max_attention on ln(scale)", partial);
  write_doubles(group, "gain_se", se, {rows}, {"rank"}, "probability per ln(scale)", "standard error of the slope", partial);
  write_doubles(group, "gain_r_squared", r2, {rows}, {"rank"}, "", "R² of the fit", partial);
  write_doubles(group, "max_attention_mean", curve, {rows, scales}, {"rank", "scale"}, "probability",
                "mean max_attention over tokens and samples at each scale", partial);
  std::vector<std::int32_t> control_pairs;
  for (const auto& head : controls) { control_pairs.push_back(head.layer); control_pairs.push_back(head.head); }
  h5::write_array(group, "controls", H5T_STD_I32LE, H5T_NATIVE_INT32, {rows, static_cast<hsize_t>(r.controls_per_head), 2},
                  control_pairs.data(), partial, {"rank", "control", "layer_head"}, "", "the random control heads of each row (seeded)");
  write_doubles(group, "control_gain", control_gain, {rows}, {"rank"}, "probability per ln(scale)", "mean gain of the row's controls", partial);
  write_doubles(group, "ratio", ratio, {rows}, {"rank"}, "", "gain / control_gain", partial);
  {
    Id dataset = h5::open_dataset(group, "ratio", partial);
    h5::write_attribute(dataset, "verdicts", verdicts);
    Id gains = h5::open_dataset(group, "gain", partial);
    h5::write_attribute(gains, "trend_max_attention", trends);
  }
  group.reset();
  finish(file, partial, path);
}

}  // namespace headscope::sweep
