// Writer and reader of sweep and gain-scan files (see sweep_file.h). Sections: 1. names  2. writing a
// sweep  3. writing a gain scan  4. reading a sweep.
#include "core/store/sweep_file.h"

#include <algorithm>
#include <cmath>

#include "core/store/file_header.h"
#include "core/store/result_io.h"
#include "core/store/schema.h"

namespace headscope::store {

namespace io = result_io;
using h5::Id;

// 1. Names -------------------------------------------------------------------------------------------------
const char* sweep_metric_name(int metric) {
  static const char* const names[kSweepMetricCount] = {"entropy", "max_attention", "k90"};
  return metric >= 0 && metric < kSweepMetricCount ? names[metric] : "?";
}

const char* sweep_metric_units(int metric) {
  static const char* const units[kSweepMetricCount] = {"nats", "probability", "keys"};
  return metric >= 0 && metric < kSweepMetricCount ? units[metric] : "";
}

std::size_t SweepFile::conditions_done() const {
  std::size_t done = 0;
  for (std::size_t c = 0; c < condition_count(); ++c) done += condition_is_done(c);
  return done;
}

bool SweepFile::scaling() const {
  for (double s : scales)
    if (!std::isfinite(s)) return false;
  return !scales.empty();
}

namespace {

std::vector<std::int64_t> as_int64(const std::vector<double>& values) {
  return std::vector<std::int64_t>(values.begin(), values.end());
}

void write_check(hid_t parent, const std::string& name, const SweepCheck& check, const std::string& context) {
  Id group = h5::create_group(parent, name, context);
  h5::write_attribute(group, "passed", std::int64_t{check.passed});
  h5::write_attribute(group, "bitwise", std::int64_t{check.bitwise});
  h5::write_attribute(group, "max_abs_difference", check.max_abs_difference);
  h5::write_attribute(group, "tolerance", check.tolerance);
  h5::write_attribute(group, "detail", check.detail);
}

SweepCheck read_check(hid_t sweep, const std::string& name, const std::string& path) {
  SweepCheck check;
  if (!h5::link_exists(sweep, "checks") || !h5::link_exists(sweep, "checks/" + name)) return check;
  Id group = h5::open_group(sweep, "checks/" + name, path);
  check.present = true;
  check.passed = io::int_or(group, "passed", path) != 0;
  check.bitwise = io::int_or(group, "bitwise", path) != 0;
  check.max_abs_difference = io::double_or(group, "max_abs_difference", path);
  check.tolerance = io::double_or(group, "tolerance", path);
  check.detail = io::string_or(group, "detail", path);
  return check;
}

// The across-sample arrays (bootstrap intervals, per-sample means, effects) of a sweep.
void write_across_samples(hid_t group, const SweepFile& r, const std::string& partial) {
  const hsize_t conditions = r.scales.size(), heads = r.heads.size(), controls = heads > 0 ? heads - 1 : 0;
  const hsize_t samples = static_cast<hsize_t>(r.sample_count);
  h5::write_attribute(group, "control_choice", r.control_choice);
  h5::write_attribute(group, "bootstrap_resamples", r.bootstrap_resamples);
  h5::write_attribute(group, "bootstrap_seed", r.bootstrap_seed);
  h5::write_attribute(group, "bootstrap_confidence", r.bootstrap_confidence);
  h5::write_attribute(group, "bootstrap_note", r.bootstrap_note);
  const std::vector<std::string> by_sample{"condition", "head", "sample"};
  for (int m = 0; m < kSweepMetricCount; ++m) {
    if (r.sample_mean[m].size() != conditions * heads * samples || r.sample_n[m].size() != r.sample_mean[m].size()) continue;
    const std::string metric = sweep_metric_name(m);
    io::write_doubles(group, metric + "_sample_mean", r.sample_mean[m], {{conditions, heads, samples}, by_sample,
                      sweep_metric_units(m), "mean over one sample's tokens, the head intervened alone (the bootstrap's data)"}, partial);
    io::write_int64s(group, metric + "_sample_n", as_int64(r.sample_n[m]), {{conditions, heads, samples}, by_sample, "tokens",
                     "tokens of the sample counted in " + metric + "_sample_mean"}, partial);
  }
  if (r.gain_ci_low.size() != heads) return;  // no intervals yet (a running sweep)
  const std::string gain_units = "probability per ln(scale)", percent = std::to_string(static_cast<int>(r.bootstrap_confidence * 100 + 0.5));
  const std::string across = " of the " + percent + " % percentile bootstrap interval across samples (NaN: none)";
  io::write_doubles(group, "gain_ci_low", r.gain_ci_low, {{heads}, {"head"}, gain_units, "lower end" + across}, partial);
  io::write_doubles(group, "gain_ci_high", r.gain_ci_high, {{heads}, {"head"}, gain_units, "upper end" + across}, partial);
  io::write_doubles(group, "ratio_ci_low", r.ratio_ci_low, {{controls}, {"control"}, "", "lower end" + across}, partial);
  io::write_doubles(group, "ratio_ci_high", r.ratio_ci_high, {{controls}, {"control"}, "", "upper end" + across}, partial);
  io::write_int64s(group, "control_flat", std::vector<std::int64_t>(r.control_flat.begin(), r.control_flat.end()),
                   {{controls}, {"control"}, "", "1 when the control's gain interval contains 0 (the control is flat)"}, partial);
  {
    Id ratio = h5::open_dataset(group, "ratio", partial);
    h5::write_attribute(ratio, "ratio_versus_mean_control_ci_low", r.ratio_versus_mean_control_ci_low);
    h5::write_attribute(ratio, "ratio_versus_mean_control_ci_high", r.ratio_versus_mean_control_ci_high);
  }
  io::write_doubles(group, "max_attention_ci_low", r.max_attention_ci_low, {{conditions, heads}, {"condition", "head"},
                    "probability", "lower end" + across + ", of max_attention_mean"}, partial);
  io::write_doubles(group, "max_attention_ci_high", r.max_attention_ci_high, {{conditions, heads}, {"condition", "head"},
                    "probability", "upper end" + across + ", of max_attention_mean"}, partial);
  io::write_doubles(group, "effect", r.effect, {{heads, static_cast<hsize_t>(kSweepMetricCount)}, {"head", "metric"}, "baseline std",
                    "how far each metric (entropy, max_attention, k90) moves over the sweep: OLS slope on ln(scale) x "
                    "ln(largest/smallest scale) / the baseline std across tokens"}, partial);
  h5::write_attribute(Id(h5::open_dataset(group, "effect", partial)), "moves_most", r.moves_most);
}

}  // namespace

// 2. Writing a sweep ---------------------------------------------------------------------------------------
void write_sweep_file(const std::string& path, const SweepFile& r, bool overwrite) {
  io::ResultFile out(path, RunKind::sweep, r.command_line, r.complete, overwrite);
  const Id& file = out.file;
  const std::string& partial = out.temp.path();
  write_model_group(file, r.model_name, r.model_config_json, partial);
  Id group = h5::create_group(file, "/sweep", partial);
  h5::write_attribute(group, "intervention", r.intervention);
  h5::write_attribute(group, "target", r.target);
  h5::write_attribute(group, "expected_directions", r.expected_directions);
  h5::write_attribute(group, "sample_count", r.sample_count);
  h5::write_attribute(group, "token_count", r.token_count);
  h5::write_attribute(group, "baseline_loss", r.baseline_loss);
  h5::write_attribute(group, "null_result", r.null_result);
  h5::write_attribute(group, "spread", std::string("std = sample standard deviation (n - 1) over every token of every sample"));
  h5::write_attribute(group, "baseline_done", std::int64_t{r.baseline_done});
  h5::write_attribute(group, "conditions_done", static_cast<std::int64_t>(r.conditions_done()));

  const hsize_t conditions = r.scales.size(), heads = r.heads.size();
  const std::vector<std::string> by_cell{"condition", "head"}, by_head{"head"};
  io::write_doubles(group, "scales", r.scales, {{conditions}, {"condition"}, "factor",
                    "scale applied to the intervened head (NaN for an ablation)"}, partial);
  h5::write_attribute(Id(h5::open_dataset(group, "scales", partial)), "condition_names", r.condition_names);
  std::vector<std::int64_t> done(r.condition_done.begin(), r.condition_done.end());
  done.resize(conditions, 0);
  io::write_int64s(group, "condition_done", done, {{conditions}, {"condition"}, "",
                   "1 once every measured head has this condition; a running sweep rewrites the file after each"}, partial);
  io::write_heads(group, "heads", r.heads, "head", "measured heads (layer, head): the target first, then the controls", partial);
  h5::write_attribute(Id(h5::open_dataset(group, "heads", partial)), "roles", r.roles);

  for (int m = 0; m < kSweepMetricCount; ++m) {
    const std::string metric = sweep_metric_name(m), units = sweep_metric_units(m);
    const std::string what = " of " + metric + " over tokens and samples, the head intervened alone";
    io::write_doubles(group, metric + "_mean", r.mean[m], {{conditions, heads}, by_cell, units, "mean" + what}, partial);
    io::write_doubles(group, metric + "_std", r.spread_std[m], {{conditions, heads}, by_cell, units, "sample std" + what}, partial);
    io::write_int64s(group, metric + "_n", as_int64(r.count[m]), {{conditions, heads}, by_cell, "tokens", "tokens counted" + what}, partial);
    const std::string base = " of " + metric + " without any intervention";
    io::write_doubles(group, "baseline_" + metric + "_mean", r.baseline_mean[m], {{heads}, by_head, units, "mean" + base}, partial);
    io::write_doubles(group, "baseline_" + metric + "_std", r.baseline_std[m], {{heads}, by_head, units, "sample std" + base}, partial);
    io::write_int64s(group, "baseline_" + metric + "_n", as_int64(r.baseline_count[m]), {{heads}, by_head, "tokens", "tokens counted" + base},
                     partial);
  }
  io::write_doubles(group, "loss", r.loss, {{conditions, heads}, by_cell, "nats",
                    "mean next-token cross-entropy over every predicted token, the head intervened alone"}, partial);
  io::write_doubles(group, "loss_delta", r.loss_delta, {{conditions, heads}, by_cell, "nats",
                    "loss minus the baseline loss (no intervention)"}, partial);

  const std::string gain_units = "probability per ln(scale)";
  io::write_doubles(group, "gain", r.gain, {{heads}, by_head, gain_units,
                    "OLS slope of mean max_attention on ln(scale) (METRICS.md, Intervention gain); NaN when not fitted"}, partial);
  io::write_doubles(group, "gain_se", r.gain_se, {{heads}, by_head, gain_units, "standard error of the slope, from the residuals"}, partial);
  io::write_doubles(group, "gain_r_squared", r.gain_r_squared, {{heads}, by_head, "", "R² of the fit"}, partial);
  io::write_doubles(group, "gain_intercept", r.gain_intercept, {{heads}, by_head, "probability",
                    "intercept (mean max_attention at scale 1)"}, partial);
  io::write_int64s(group, "gain_fitted", std::vector<std::int64_t>(r.gain_fitted.begin(), r.gain_fitted.end()),
                   {{heads}, by_head, "", "1 when a gain was fitted (scaling kinds)"}, partial);
  {
    Id dataset = h5::open_dataset(group, "gain", partial);
    h5::write_attribute(dataset, "notes", r.gain_notes);
    for (int m = 0; m < kSweepMetricCount; ++m)
      h5::write_attribute(dataset, std::string("trend_") + sweep_metric_name(m), r.trends[m]);
  }
  io::write_doubles(group, "ratio", r.ratio, {{r.ratio.size()}, {"control"}, "",
                    "target gain / control gain, one per control (heads[1:])"}, partial);
  {
    Id dataset = h5::open_dataset(group, "ratio", partial);
    h5::write_attribute(dataset, "verdicts", r.verdicts);
    h5::write_attribute(dataset, "ratio_versus_mean_control", r.ratio_versus_mean_control);
    h5::write_attribute(dataset, "verdict_versus_mean_control", r.verdict_versus_mean_control);
  }
  write_across_samples(group, r, partial);
  if (r.baseline_done) {  // the checks run with the baseline
    Id checks = h5::create_group(group, "checks", partial);
    write_check(checks, "baseline_sanity", r.sanity, partial);
    write_check(checks, "isolation", r.isolation, partial);
  }
  group.reset();
  io::finish(out);
}

// 3. Writing a gain scan -----------------------------------------------------------------------------------
void write_gain_scan_file(const std::string& path, const GainScanFile& r, bool overwrite) {
  io::ResultFile out(path, RunKind::sweep, r.command_line, true, overwrite);
  const Id& file = out.file;
  const std::string& partial = out.temp.path();
  write_model_group(file, r.model_name, r.model_config_json, partial);
  Id group = h5::create_group(file, "/gain_scan", partial);
  h5::write_attribute(group, "intervention", r.intervention);
  h5::write_attribute(group, "sample_count", r.sample_count);
  h5::write_attribute(group, "token_count", r.token_count);
  h5::write_attribute(group, "seed", r.seed);
  h5::write_attribute(group, "controls_per_head", r.controls_per_head);
  const hsize_t rows = r.heads.size(), scales = r.scales.size();
  const std::string gain_units = "probability per ln(scale)";
  io::write_doubles(group, "scales", r.scales, {{scales}, {"scale"}, "factor", "scales applied to every head of the layer at once"}, partial);
  io::write_heads(group, "heads", r.heads, "rank", "heads ranked by gain, highest first (layer, head)", partial);
  io::write_doubles(group, "gain", r.gain, {{rows}, {"rank"}, gain_units, "OLS slope of mean max_attention on ln(scale)"}, partial);
  io::write_doubles(group, "gain_se", r.gain_se, {{rows}, {"rank"}, gain_units, "standard error of the slope"}, partial);
  io::write_doubles(group, "gain_r_squared", r.gain_r_squared, {{rows}, {"rank"}, "", "R² of the fit"}, partial);
  io::write_doubles(group, "max_attention_mean", r.max_attention_mean, {{rows, scales}, {"rank", "scale"}, "probability",
                    "mean max_attention over tokens and samples at each scale"}, partial);
  std::vector<std::int32_t> control_pairs;
  for (const auto& head : r.controls) { control_pairs.push_back(head.layer); control_pairs.push_back(head.head); }
  io::write_int32s(group, "controls", control_pairs, {{rows, static_cast<hsize_t>(r.controls_per_head), 2},
                   {"rank", "control", "layer_head"}, "", "the random control heads of each row (seeded)"}, partial);
  io::write_doubles(group, "control_gain", r.control_gain, {{rows}, {"rank"}, gain_units, "mean gain of the row's controls"}, partial);
  io::write_doubles(group, "ratio", r.ratio, {{rows}, {"rank"}, "", "gain / control_gain"}, partial);
  {
    Id dataset = h5::open_dataset(group, "ratio", partial);
    h5::write_attribute(dataset, "verdicts", r.verdicts);
    Id gains = h5::open_dataset(group, "gain", partial);
    h5::write_attribute(gains, "trend_max_attention", r.trends);
  }
  group.reset();
  io::finish(out);
}

// 4. Reading a sweep ---------------------------------------------------------------------------------------
namespace {

// The optional across-sample arrays; files of older writers (or a running sweep) lack some or all.
void read_across_samples(hid_t sweep, SweepFile& data, const std::string& path) {
  const std::size_t heads = data.head_count(), cells = data.scales.size() * heads, controls = heads > 0 ? heads - 1 : 0;
  const double nan = std::nan("");
  auto sized = [&](const std::string& name, std::size_t size) {
    std::vector<double> values = h5::link_exists(sweep, name) ? io::doubles(sweep, name, path) : std::vector<double>();
    if (values.size() != size && !values.empty())
      throw StoreError(path + ": /sweep/" + name + " holds " + std::to_string(values.size()) + " values, expected " +
                       std::to_string(size) + " (damaged file?)");
    return values;
  };
  data.control_choice = io::string_or(sweep, "control_choice", path);
  data.bootstrap_resamples = io::int_or(sweep, "bootstrap_resamples", path);
  data.bootstrap_seed = io::int_or(sweep, "bootstrap_seed", path);
  if (h5::has_attribute(sweep, "bootstrap_confidence")) data.bootstrap_confidence = io::double_or(sweep, "bootstrap_confidence", path);
  data.bootstrap_note = io::string_or(sweep, "bootstrap_note", path);
  for (int m = 0; m < kSweepMetricCount; ++m) {
    const std::string metric = sweep_metric_name(m);
    data.sample_mean[m] = sized(metric + "_sample_mean", cells * static_cast<std::size_t>(std::max<std::int64_t>(data.sample_count, 0)));
    data.sample_n[m] = sized(metric + "_sample_n", data.sample_mean[m].size());
  }
  data.gain_ci_low = sized("gain_ci_low", heads);
  data.gain_ci_high = sized("gain_ci_high", heads);
  data.ratio_ci_low = sized("ratio_ci_low", controls);
  data.ratio_ci_high = sized("ratio_ci_high", controls);
  for (double flat : sized("control_flat", controls)) data.control_flat.push_back(flat != 0);
  data.max_attention_ci_low = sized("max_attention_ci_low", cells);
  data.max_attention_ci_high = sized("max_attention_ci_high", cells);
  data.effect = sized("effect", heads * kSweepMetricCount);
  data.ratio_versus_mean_control_ci_low = data.ratio_versus_mean_control_ci_high = nan;
  if (h5::link_exists(sweep, "effect")) data.moves_most = io::dataset_string_attribute(sweep, "effect", "moves_most", path);
  data.moves_most.resize(heads);
  if (h5::link_exists(sweep, "ratio")) {
    Id ratio = h5::open_dataset(sweep, "ratio", path);
    if (h5::has_attribute(ratio, "ratio_versus_mean_control_ci_low")) {
      data.ratio_versus_mean_control_ci_low = io::double_or(ratio, "ratio_versus_mean_control_ci_low", path);
      data.ratio_versus_mean_control_ci_high = io::double_or(ratio, "ratio_versus_mean_control_ci_high", path);
    }
  }
}

}  // namespace

std::shared_ptr<const SweepFile> read_sweep_file(const std::string& path) {
  Id file = io::open_read_only(path);
  io::require_kind(file, RunKind::sweep, "/sweep", path);
  auto data = std::make_shared<SweepFile>();
  const RootAttributes root = read_root_attributes(file, path);
  data->path = path;
  data->command_line = root.command_line;
  data->created = root.created;
  data->complete = root.complete;
  if (h5::link_exists(file, schema::kModel)) {
    Id model = h5::open_group(file, schema::kModel, path);
    data->model_name = io::string_or(model, schema::kModelName, path);
    if (h5::link_exists(model, schema::kModelConfig)) data->model_config_json = h5::read_string_dataset(model, schema::kModelConfig, path);
  }
  Id sweep = h5::open_group(file, "/sweep", path);
  data->intervention = io::string_or(sweep, "intervention", path);
  data->target = io::string_or(sweep, "target", path);
  data->null_result = io::string_or(sweep, "null_result", path);
  data->spread = io::string_or(sweep, "spread", path);
  data->expected_directions = io::string_list_attribute(sweep, "expected_directions", path);
  data->sample_count = io::int_or(sweep, "sample_count", path);
  data->token_count = io::int_or(sweep, "token_count", path);
  data->baseline_loss = io::double_or(sweep, "baseline_loss", path);
  data->scales = io::doubles(sweep, "scales", path);
  data->condition_names = io::dataset_string_attribute(sweep, "scales", "condition_names", path);
  const auto pairs = io::ints(sweep, "heads", path);
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) data->heads.push_back({pairs[i], pairs[i + 1]});
  data->head_names = io::dataset_string_attribute(sweep, "heads", "names", path);
  if (data->head_names.empty())  // no names attribute: make them from the (layer, head) pairs
    for (const auto& head : data->heads) data->head_names.push_back(head_name(head));
  data->roles = io::dataset_string_attribute(sweep, "heads", "roles", path);
  if (data->heads.size() != data->head_names.size())
    throw StoreError(path + ": /sweep/heads holds " + std::to_string(data->heads.size()) + " heads but names " +
                     std::to_string(data->head_names.size()) + " (damaged file?)");
  for (std::size_t h = 0; h < data->heads.size(); ++h)
    if (data->heads[h].layer < 0 || data->heads[h].head < 0)
      throw StoreError(path + ": /sweep/heads row " + std::to_string(h) + ": negative layer or head (damaged file?)");
  const std::size_t head_total = data->head_names.size(), cells = data->scales.size() * head_total;
  data->roles.resize(head_total, "control");
  data->condition_names.resize(data->scales.size());
  const double nan = std::nan("");
  // An optional array, padded to `size` with `fill` (files of older writers lack some).
  auto optional = [&](const std::string& name, std::size_t size, double fill) {
    std::vector<double> values = h5::link_exists(sweep, name) ? io::doubles(sweep, name, path) : std::vector<double>();
    values.resize(size, fill);
    return values;
  };
  for (int m = 0; m < kSweepMetricCount; ++m) {
    const std::string metric = sweep_metric_name(m);
    data->mean[m] = io::doubles(sweep, metric + "_mean", path);
    data->spread_std[m] = io::doubles(sweep, metric + "_std", path);
    data->count[m] = io::doubles(sweep, metric + "_n", path);
    data->baseline_mean[m] = io::doubles(sweep, "baseline_" + metric + "_mean", path);
    data->baseline_std[m] = io::doubles(sweep, "baseline_" + metric + "_std", path);
    if (data->mean[m].size() != cells || data->spread_std[m].size() != cells || data->count[m].size() != cells)
      throw StoreError(path + ": " + metric + "_mean/_std/_n are not [condition, head] = [" +
                       std::to_string(data->scales.size()) + ", " + std::to_string(head_total) + "]");
    data->baseline_mean[m].resize(head_total, nan);
    data->baseline_std[m].resize(head_total, nan);
    data->baseline_count[m] = optional("baseline_" + metric + "_n", head_total, 0);
    data->trends[m] = io::dataset_string_attribute(sweep, "gain", std::string("trend_") + metric, path);
    data->trends[m].resize(head_total);
  }
  data->loss_delta = io::doubles(sweep, "loss_delta", path);
  data->loss_delta.resize(cells, nan);
  data->loss = optional("loss", cells, nan);
  data->gain = io::doubles(sweep, "gain", path);
  data->gain_se = io::doubles(sweep, "gain_se", path);
  data->gain_r_squared = io::doubles(sweep, "gain_r_squared", path);
  data->gain_intercept = io::doubles(sweep, "gain_intercept", path);
  for (auto* v : {&data->gain, &data->gain_se, &data->gain_r_squared, &data->gain_intercept}) v->resize(head_total, nan);
  for (double fitted : optional("gain_fitted", head_total, 0)) data->gain_fitted.push_back(fitted != 0);
  data->gain_notes = io::dataset_string_attribute(sweep, "gain", "notes", path);
  data->gain_notes.resize(head_total);
  data->ratio = io::doubles(sweep, "ratio", path);
  const std::size_t controls = std::max<std::size_t>(head_total, 1) - 1;
  if (data->ratio.size() > controls)
    throw StoreError(path + ": /sweep/ratio holds " + std::to_string(data->ratio.size()) + " values for " +
                     std::to_string(controls) + " control heads (damaged file?)");
  data->verdicts = io::dataset_string_attribute(sweep, "ratio", "verdicts", path);
  data->verdicts.resize(data->ratio.size());
  {
    Id ratio = h5::open_dataset(sweep, "ratio", path);
    data->ratio_versus_mean_control = io::double_or(ratio, "ratio_versus_mean_control", path);
    data->verdict_versus_mean_control = io::string_or(ratio, "verdict_versus_mean_control", path);
  }
  read_across_samples(sweep, *data, path);
  data->sanity = read_check(sweep, "baseline_sanity", path);
  data->isolation = read_check(sweep, "isolation", path);
  data->baseline_done = !h5::has_attribute(sweep, "baseline_done") || io::int_or(sweep, "baseline_done", path) != 0;
  data->condition_done.assign(data->scales.size(), 1);
  if (h5::link_exists(sweep, "condition_done")) {
    const auto done = io::ints(sweep, "condition_done", path);
    for (std::size_t c = 0; c < data->condition_done.size(); ++c) data->condition_done[c] = c < done.size() && done[c] != 0;
  }
  return data;
}

}  // namespace headscope::store
