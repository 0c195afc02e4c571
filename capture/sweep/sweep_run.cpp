// run_sweep (see sweep.h): first, per sample, one unintervened baseline pass and the target's two check
// runs — the baseline sanity check (no intervention vs the identity intervention on the target) and the
// isolation check (the target's layer probes, baseline vs the target's most extreme scale); then one
// condition at a time, one pass per (measured head, sample) with only that head intervened, published
// when done so a reader can watch the sweep fill in. Statistics pooled over tokens and samples.
// Sections: 1. accumulators and comparisons  2. the checks  3. run_sweep.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "capture/sweep/sweep.h"
#include "capture/sweep/sweep_samples.h"
#include "capture/sweep/sweep_torch.h"

namespace headscope::sweep {

namespace {

// 1. Accumulators and comparisons ---------------------------------------------------------------------
struct Accumulator {  // Welford, NaN skipped
  std::int64_t n = 0;
  double mean = 0, m2 = 0;
  void add(double x) {
    if (!std::isfinite(x)) return;
    ++n;
    const double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
  }
  MetricStats stats() const {
    MetricStats s;
    s.n = n;
    s.mean = n ? mean : std::nan("");
    s.std = n >= 2 ? std::sqrt(m2 / static_cast<double>(n - 1)) : std::nan("");
    return s;
  }
};

// One (condition, head): pooled over every token of every sample, and per sample (one add() a sample,
// in sample order) for the across-sample bootstrap.
struct ConditionAccumulator {
  Accumulator metrics[kSweepMetricCount];
  std::vector<double> sample_mean[kSweepMetricCount], sample_n[kSweepMetricCount];
  double nll_sum = 0;
  std::int64_t predicted = 0;
  void add(const ProbedRun& run, std::size_t measured_index) {
    for (int m = 0; m < kSweepMetricCount; ++m) {
      Accumulator sample;
      for (float value : run.metrics[measured_index][static_cast<std::size_t>(m)]) {
        metrics[m].add(value);
        sample.add(value);
      }
      sample_mean[m].push_back(sample.n ? sample.mean : std::nan(""));
      sample_n[m].push_back(static_cast<double>(sample.n));
    }
    nll_sum += run.nll_sum;
    predicted += run.predicted_tokens;
  }
  HeadCondition result(double baseline_loss) const {
    HeadCondition c;
    for (int m = 0; m < kSweepMetricCount; ++m) {
      c.metrics[m] = metrics[m].stats();
      c.sample_mean[m] = sample_mean[m];
      c.sample_n[m] = sample_n[m];
    }
    c.loss = predicted ? nll_sum / static_cast<double>(predicted) : std::nan("");
    c.loss_delta = c.loss - baseline_loss;
    return c;
  }
};

struct Difference {
  double max_abs = 0;
  bool bitwise = true;
};

Difference compare(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes())
    throw std::runtime_error("sweep check: probe " + what + " missing or of another shape between runs");
  Difference d;
  d.bitwise = at::equal(a, b);
  if (!d.bitwise) d.max_abs = (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  return d;
}

std::string format_number(double value) {
  std::ostringstream out;
  out.precision(3);
  out << value;
  return out.str();
}

// 2. The checks -----------------------------------------------------------------------------------------
// Isolation: at the target's layer, which probe slices may change and which must not.
class IsolationCheck {
 public:
  IsolationCheck(SweepKind kind, store::HeadRef target, double tolerance) : kind_(kind), target_(target), tolerance_(tolerance) {}

  void add(const LayerProbes& baseline, const LayerProbes& intervened) {
    ++samples_;
    const std::int64_t heads = baseline.q_pre.size(0), kv_heads = baseline.k_pre.size(0);
    head_count_ = heads;
    kv_head_count_ = kv_heads;
    for (std::int64_t h = 0; h < heads; ++h) {
      const bool is_target = h == target_.head;
      slice("q_pre", h, baseline.q_pre[h], intervened.q_pre[h], is_target && kind_ == SweepKind::query_scale);
      slice("pattern", h, baseline.pattern[h], intervened.pattern[h], is_target && is_scaling(kind_));
      slice("head_out", h, baseline.head_out[h], intervened.head_out[h], is_target);
    }
    for (std::int64_t h = 0; h < kv_heads; ++h) {
      slice("k_pre", h, baseline.k_pre[h], intervened.k_pre[h], false);
      slice("v", h, baseline.v[h], intervened.v[h], false);
    }
  }

  CheckResult result(const std::string& condition) const {
    CheckResult r;
    r.name = "isolation";
    r.tolerance = tolerance_;
    r.max_abs_difference = unchanged_max_;
    r.bitwise = unchanged_bitwise_;
    r.passed = samples_ > 0 && violations_.empty() && unmoved_.empty();
    std::ostringstream out;
    out << "layer " << target_.layer << ", " << condition << " on " << store::head_name(target_) << ", " << samples_
        << " sample(s): ";
    if (samples_ == 0) out << "not run";
    for (const auto& [name, change] : violations_)
      out << "CHANGED BUT MUST NOT: " << name << " (max |d| " << format_number(change) << "); ";
    for (const auto& name : unmoved_) out << "DID NOT CHANGE: " << name << " (the intervention had no effect); ";
    out << "changed as intended:";
    for (const auto& [name, change] : moved_) out << " " << name << " (min over samples of max |d| " << format_number(change) << ")";
    out << "; every other head's q_pre, pattern and head_out and all " << kv_head_count_ << " kv heads' k_pre and v "
        << (violations_.empty() ? (unchanged_bitwise_ ? "bitwise unchanged" : "unchanged within " + format_number(tolerance_))
                                : "NOT unchanged");
    r.detail = out.str();
    return r;
  }

 private:
  void slice(const char* probe, std::int64_t head, const at::Tensor& a, const at::Tensor& b, bool should_change) {
    const auto d = compare(a, b, probe);
    const std::string name = std::string(probe) + " of " + (std::string(probe) == "k_pre" || std::string(probe) == "v" ? "kv head " : "head ") + std::to_string(head);
    if (should_change) {
      auto it = moved_.find(name);
      moved_[name] = it == moved_.end() ? d.max_abs : std::min(it->second, d.max_abs);
      if (d.max_abs <= tolerance_) unmoved_.insert(name);
      return;
    }
    unchanged_bitwise_ = unchanged_bitwise_ && d.bitwise;
    unchanged_max_ = std::max(unchanged_max_, d.max_abs);
    if (d.max_abs > tolerance_) violations_[name] = std::max(violations_[name], d.max_abs);
  }

  SweepKind kind_;
  store::HeadRef target_;
  double tolerance_;
  std::int64_t samples_ = 0, head_count_ = 0, kv_head_count_ = 0;
  bool unchanged_bitwise_ = true;
  double unchanged_max_ = 0;
  std::map<std::string, double> violations_, moved_;
  std::set<std::string> unmoved_;
};

// Baseline sanity: the run without interventions against the identity intervention on the target.
class SanityCheck {
 public:
  explicit SanityCheck(double tolerance) : tolerance_(tolerance) {}
  void add(const ProbedRun& baseline, std::size_t target_index, const ProbedRun& identity) {
    ++samples_;
    note(compare(baseline.logits, identity.logits, "logits"));
    const auto& a = baseline.probes;
    const auto& b = identity.probes;
    for (const auto& [x, y, what] : {std::tuple{a.q_pre, b.q_pre, "q_pre"}, std::tuple{a.k_pre, b.k_pre, "k_pre"},
                                     std::tuple{a.v, b.v, "v"}, std::tuple{a.pattern, b.pattern, "pattern"},
                                     std::tuple{a.head_out, b.head_out, "head_out"}})
      note(compare(x, y, what));
    for (int m = 0; m < kSweepMetricCount; ++m) {
      const auto& p = baseline.metrics[target_index][static_cast<std::size_t>(m)];
      const auto& q = identity.metrics[0][static_cast<std::size_t>(m)];
      for (std::size_t t = 0; t < p.size(); ++t) {
        if (std::isnan(p[t]) && std::isnan(q[t])) continue;
        if (p[t] != q[t]) {
          bitwise_ = false;
          max_ = std::max(max_, std::isnan(p[t]) || std::isnan(q[t]) ? INFINITY : std::abs(double{p[t]} - q[t]));
        }
      }
    }
  }
  CheckResult result(const std::string& identity, store::HeadRef target) const {
    CheckResult r;
    r.name = "baseline sanity";
    r.tolerance = tolerance_;
    r.bitwise = samples_ > 0 && bitwise_;
    r.max_abs_difference = max_;
    r.passed = samples_ > 0 && max_ <= tolerance_;
    std::ostringstream out;
    out << "no intervention vs " << identity << " on " << store::head_name(target) << ", " << samples_
        << " sample(s): logits, layer " << target.layer << " probes (q_pre, k_pre, v, pattern, head_out) and the head's "
        << "entropy / max attention / k90 ";
    if (r.bitwise) out << "bitwise identical";
    else if (r.passed) out << "identical within the tolerance " << format_number(tolerance_) << " (max |d| " << format_number(max_) << ", not bitwise)";
    else out << "DIFFER: max |d| " << format_number(max_) << " > tolerance " << format_number(tolerance_);
    r.detail = out.str();
    return r;
  }

 private:
  void note(const Difference& d) {
    bitwise_ = bitwise_ && d.bitwise;
    max_ = std::max(max_, d.max_abs);
  }
  double tolerance_;
  std::int64_t samples_ = 0;
  bool bitwise_ = true;
  double max_ = 0;
};

void check_head(const store::HeadRef& head, const model::ModelConfig& config, const std::string& role) {
  if (head.layer < 0 || head.layer >= config.layer_count || head.head < 0 || head.head >= config.head_count)
    throw std::runtime_error(role + " " + store::head_name(head) + " is outside the model (" +
                             std::to_string(config.layer_count) + " layers x " + std::to_string(config.head_count) + " heads)");
}

// The controls when none are given (SweepSettings::draw): other heads of the target's layer, drawn with
// the seed or matched on baseline entropy; `choice` says which in words, for the report and the file.
std::vector<store::HeadRef> draw_controls(model::Model& model, const std::vector<SweepSample>& samples,
                                          const SweepSettings& settings, std::string& choice) {
  const auto& target = settings.target;
  std::vector<store::HeadRef> others;
  for (int h = 0; h < model.config().head_count; ++h)
    if (h != target.head) others.push_back({target.layer, h});
  const auto count = std::min(others.size(), static_cast<std::size_t>(settings.control_count));
  std::ostringstream words;
  if (settings.draw == ControlDraw::random) {
    std::mt19937_64 generator(settings.seed);
    std::shuffle(others.begin(), others.end(), generator);
    others.resize(count);
    words << count << " drawn at random from layer " << target.layer << " (seed " << settings.seed << ")";
  } else {  // matched: one unintervened pass per sample measures every head of the layer
    ProbedRunRequest request;
    request.measured = others;
    request.measured.push_back(target);
    request.loss = false;
    std::vector<Accumulator> entropy(request.measured.size());
    for (const auto& sample : samples) {
      const ProbedRun run = run_probed(model, sample.ids, {}, request);
      for (std::size_t i = 0; i < entropy.size(); ++i)
        for (float value : run.metrics[i][0]) entropy[i].add(value);
    }
    const double target_entropy = entropy.back().mean;
    std::vector<std::size_t> order(others.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::abs(entropy[a].mean - target_entropy) < std::abs(entropy[b].mean - target_entropy);
    });
    std::vector<store::HeadRef> matched;
    words << count << " of layer " << target.layer << " matched on baseline entropy (target " << format_number(target_entropy)
          << " nats;";
    for (std::size_t i = 0; i < count; ++i) {
      matched.push_back(others[order[i]]);
      words << " " << store::head_name(others[order[i]]) << " " << format_number(entropy[order[i]].mean);
    }
    words << ")";
    others = matched;
  }
  choice = words.str();
  return others;
}

}  // namespace

// Shared with gain_scan.cpp: scales must be finite and > 0; returned sorted, without duplicates.
std::vector<double> validated_scales(std::vector<double> scales) {
  for (double s : scales)
    if (!(s > 0) || !std::isfinite(s))
      throw std::runtime_error("scale " + format_number(s) + " is not allowed: scales must be finite numbers > 0");
  std::sort(scales.begin(), scales.end());
  scales.erase(std::unique(scales.begin(), scales.end()), scales.end());
  if (scales.size() < 2) throw std::runtime_error("a sweep needs at least 2 different scales (3 for a standard error)");
  if (std::none_of(scales.begin(), scales.end(), [](double s) { return s != 1.0; }))
    throw std::runtime_error("a sweep needs a scale other than 1");
  return scales;
}

std::unique_ptr<model::Model> load_sweep_model(const RunSettings& run) {
  model::LoadOptions load;
  load.device = run.device;
  load.dtype = run.dtype;
  load.adapter = run.adapter;
  load.threads = run.threads;
  return model::Model::load(run.model_dir, load);
}

std::string model_short_name(const std::string& dir) {
  auto path = std::filesystem::absolute(dir).lexically_normal();
  return path.filename().empty() ? path.parent_path().filename().string() : path.filename().string();
}

// 3. run_sweep -------------------------------------------------------------------------------------------
SweepResult run_sweep(const SweepSettings& settings, const LogSink& log, const ProgressSink& progress, const RunProgressSink& runs) {
  auto say = [&](const std::string& line) { if (log) log(line); };
  SweepResult result;
  result.kind = settings.kind;
  const bool scaling = is_scaling(settings.kind);
  if (scaling) result.scales = validated_scales(settings.scales);
  else result.scales = {std::nan("")};

  auto model = load_sweep_model(settings.run);
  const auto& config = model->config();
  result.model_config_json = config.json;
  result.model_name = model_short_name(settings.run.model_dir);
  check_head(settings.target, config, "target");
  result.heads.push_back(settings.target);
  result.bootstrap_options.resamples = settings.bootstrap_resamples;
  result.bootstrap_options.seed = settings.seed;
  const auto samples = load_sweep_samples(settings.samples, settings.run.model_dir, config.vocab_size);
  result.sample_count = static_cast<std::int64_t>(samples.size());
  std::vector<store::HeadRef> controls = settings.controls;
  if (controls.empty() && settings.draw != ControlDraw::given && settings.control_count > 0) {
    controls = draw_controls(*model, samples, settings, result.control_choice);
    say("controls: " + result.control_choice);
  } else {
    result.control_choice = controls.empty() ? "none" : "given";
  }
  for (const auto& control : controls) {
    check_head(control, config, "control");
    if (std::find(result.heads.begin(), result.heads.end(), control) != result.heads.end())
      throw std::runtime_error("control " + store::head_name(control) + " is the target or listed twice");
    result.heads.push_back(control);
  }
  model::check_interventions(model::Interventions{settings.extra_interventions}, config);

  for (double s : result.scales)
    result.conditions.push_back(scaling ? "scale " + format_number(s)
                                        : std::string("ablated (") + (settings.kind == SweepKind::ablate_zero ? "zero" : "mean") + ")");
  say(std::string("sweep ") + sweep_kind_name(settings.kind) + " on target " + store::head_name(settings.target) + ", " +
      std::to_string(controls.size()) + " control(s), " + std::to_string(samples.size()) + " sample(s)");
  say("expected as the scale grows:");
  for (const auto& line : expected_directions(settings.kind)) say("  " + line);

  // The isolation check uses the scale farthest from 1 (in ln); the sanity check the scale 1.0 run when
  // the list has one, else an extra identity run.
  std::size_t isolation_condition = 0;
  std::ptrdiff_t sanity_condition = -1;
  for (std::size_t c = 0; c < result.scales.size(); ++c) {
    if (scaling && std::abs(std::log(result.scales[c])) > std::abs(std::log(result.scales[isolation_condition]))) isolation_condition = c;
    if (scaling && result.scales[c] == 1.0) sanity_condition = static_cast<std::ptrdiff_t>(c);
  }
  IsolationCheck isolation(settings.kind, settings.target, settings.sanity_tolerance);
  SanityCheck sanity(settings.sanity_tolerance);

  const std::size_t head_count = result.heads.size(), condition_count = result.scales.size();
  std::vector<ConditionAccumulator> baseline(head_count);
  std::vector<std::vector<ConditionAccumulator>> conditions(condition_count, std::vector<ConditionAccumulator>(head_count));
  double baseline_nll = 0;
  std::int64_t baseline_predicted = 0;
  for (const auto& sample : samples) result.token_count += static_cast<std::int64_t>(sample.ids.size());
  result.condition_done.assign(condition_count, 0);
  // Fills the result from the accumulators (pending parts NaN) and hands it to the progress sink.
  auto publish = [&] {
    result.baseline_loss = baseline_predicted ? baseline_nll / static_cast<double>(baseline_predicted) : std::nan("");
    const HeadCondition pending = ConditionAccumulator{}.result(std::nan(""));
    result.baseline.clear();
    for (std::size_t h = 0; h < head_count; ++h)
      result.baseline.push_back(result.baseline_done ? baseline[h].result(result.baseline_loss) : pending);
    result.conditions_by_head.assign(condition_count, {});
    for (std::size_t c = 0; c < condition_count; ++c)
      for (std::size_t h = 0; h < head_count; ++h)
        result.conditions_by_head[c].push_back(result.condition_done[c] ? conditions[c][h].result(result.baseline_loss) : pending);
    if (result.baseline_done) {
      result.sanity = sanity.result(scaling ? "scale 1.0" : "the identity intervention (no ablation)", settings.target);
      result.isolation = isolation.result(result.conditions[isolation_condition]);
    }
    analyse_sweep(result);
    if (progress) progress(result);
  };
  publish();  // nothing measured yet: a reader can open the file while the model runs

  // Forward passes: the mean ablation's pre-pass, 3 per sample for the baseline and both checks, then per
  // condition one per sample and head (the target's already counted where a check ran it).
  const auto sample_count = static_cast<std::int64_t>(samples.size());
  std::int64_t run_count = sample_count * (settings.kind == SweepKind::ablate_mean ? 4 : 3);
  for (std::size_t c = 0; c < condition_count; ++c) {
    const bool target_done = c == isolation_condition || static_cast<std::ptrdiff_t>(c) == sanity_condition;
    run_count += sample_count * static_cast<std::int64_t>(head_count - (target_done ? 1 : 0));
  }
  RunCounter counter(runs, run_count);
  auto ran = [&](const std::string& phase, std::size_t s) {
    counter.ran(samples[s].ids.size(), phase + ", sample " + std::to_string(s + 1) + "/" + std::to_string(samples.size()));
  };

  // Mean ablation needs each measured head's mean output over every token of every sample first.
  std::vector<std::vector<float>> mean_outputs(result.heads.size());
  if (settings.kind == SweepKind::ablate_mean) {
    std::vector<int> layers;
    for (const auto& head : result.heads) layers.push_back(head.layer);
    std::vector<at::Tensor> sums(layers.size());
    std::int64_t tokens = 0;
    ProbedRunRequest request;
    request.loss = false;
    request.head_out_sum_layers = layers;
    for (std::size_t s = 0; s < samples.size(); ++s) {
      auto run = run_probed(*model, samples[s].ids, {}, request);
      for (std::size_t i = 0; i < layers.size(); ++i) sums[i] = sums[i].defined() ? sums[i] + run.head_out_sums[i] : run.head_out_sums[i];
      tokens += static_cast<std::int64_t>(samples[s].ids.size());
      ran("mean outputs", s);
    }
    for (std::size_t i = 0; i < result.heads.size(); ++i) {
      at::Tensor mean = (sums[i][result.heads[i].head] / static_cast<double>(tokens)).to(at::kFloat).contiguous();
      mean_outputs[i].assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
    }
  }

  auto interventions_for = [&](std::size_t head_index, double scale) {
    model::HeadIntervention edit;
    edit.layer = result.heads[head_index].layer;
    edit.head = result.heads[head_index].head;
    if (settings.kind == SweepKind::query_scale) edit.query_scale = scale;
    if (settings.kind == SweepKind::key_scale) edit.key_scale = scale;
    if (settings.kind == SweepKind::ablate_zero) edit.output = model::OutputAblation::zero;
    if (settings.kind == SweepKind::ablate_mean) {
      edit.output = model::OutputAblation::mean;
      edit.mean_output = mean_outputs[head_index];
    }
    model::Interventions list{{edit}};
    list.heads.insert(list.heads.end(), settings.extra_interventions.begin(), settings.extra_interventions.end());
    return list;
  };

  // Phase 1, the baseline and both checks: per sample the run without interventions, then the target's
  // runs the checks compare with it (scale 1 or the identity, and the scale farthest from 1), whose
  // statistics also count for those conditions. Nothing of a sample's probes outlives the sample.
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const auto& ids = samples[s].ids;
    ProbedRunRequest base_request;
    base_request.measured = result.heads;
    base_request.record_layer = settings.target.layer;
    base_request.keep_logits = true;
    const ProbedRun base = run_probed(*model, ids, {}, base_request);
    ran("baseline and checks", s);
    for (std::size_t h = 0; h < head_count; ++h) baseline[h].add(base, h);
    baseline_nll += base.nll_sum;
    baseline_predicted += base.predicted_tokens;

    ProbedRunRequest check_request;
    check_request.measured = {settings.target};
    check_request.record_layer = settings.target.layer;
    if (sanity_condition >= 0) {
      check_request.keep_logits = true;
      const ProbedRun run = run_probed(*model, ids, interventions_for(0, result.scales[static_cast<std::size_t>(sanity_condition)]), check_request);
      conditions[static_cast<std::size_t>(sanity_condition)][0].add(run, 0);
      sanity.add(base, 0, run);
      ran("baseline and checks", s);
    } else {  // the identity intervention: scale 1 / no ablation on the target
      model::HeadIntervention identity;
      identity.layer = settings.target.layer;
      identity.head = settings.target.head;
      model::Interventions list{{identity}};
      list.heads.insert(list.heads.end(), settings.extra_interventions.begin(), settings.extra_interventions.end());
      check_request.keep_logits = true;
      sanity.add(base, 0, run_probed(*model, ids, list, check_request));
      ran("baseline and checks", s);
    }
    check_request.keep_logits = false;
    const ProbedRun run = run_probed(*model, ids, interventions_for(0, result.scales[isolation_condition]), check_request);
    conditions[isolation_condition][0].add(run, 0);
    isolation.add(base.probes, run.probes);
    ran("baseline and checks", s);
  }
  result.baseline_done = true;
  publish();
  say("checks: baseline sanity " + std::string(result.sanity.passed ? "PASS" : "FAIL") + ", isolation " +
      (result.isolation.passed ? "PASS" : "FAIL"));

  // Phase 2, one condition at a time: each measured head intervened alone (the target's check runs above
  // already counted), published as soon as every head has it.
  for (std::size_t c = 0; c < condition_count; ++c) {
    const bool target_done = c == isolation_condition || static_cast<std::ptrdiff_t>(c) == sanity_condition;
    for (std::size_t s = 0; s < samples.size(); ++s) {
      for (std::size_t h = target_done ? 1 : 0; h < head_count; ++h) {
        ProbedRunRequest request;
        request.measured = {result.heads[h]};
        conditions[c][h].add(run_probed(*model, samples[s].ids, interventions_for(h, result.scales[c]), request), 0);
        ran(result.conditions[c], s);
      }
    }
    result.condition_done[c] = 1;
    publish();
  }
  return result;
}

}  // namespace headscope::sweep
