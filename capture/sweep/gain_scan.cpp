// run_gain_scan (see sweep.h): the gain of every head of a layer (or of every layer) from one pass per
// (layer, scale, sample) with all heads of that layer scaled together. That is exact for each head's own
// attention: a head's pattern at layer L depends only on its own query and on keys computed from layer
// L's input, which no intervention at L touches (isolation, checked by the sweep). Each head is then
// compared with the mean gain of N other scanned heads drawn with a seed, and the table ranked by gain.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <stdexcept>

#include "capture/sweep/sweep.h"
#include "capture/sweep/sweep_samples.h"
#include "capture/sweep/sweep_torch.h"

namespace headscope::sweep {

GainScanResult run_gain_scan(const GainScanSettings& settings, const LogSink& log, const RunProgressSink& runs) {
  auto say = [&](const std::string& line) { if (log) log(line); };
  if (!is_scaling(settings.kind)) throw std::runtime_error("a gain scan scales queries or keys; ablations have no gain");
  if (settings.controls_per_head < 1) throw std::runtime_error("a gain scan needs at least 1 control per head");
  GainScanResult result;
  result.kind = settings.kind;
  result.scales = validated_scales(settings.scales);
  result.seed = settings.seed;
  result.controls_per_head = settings.controls_per_head;
  auto model = load_sweep_model(settings.run);
  const auto& config = model->config();
  result.model_config_json = config.json;
  result.model_name = model_short_name(settings.run.model_dir);
  if (settings.layer < -1 || settings.layer >= config.layer_count)
    throw std::runtime_error("layer " + std::to_string(settings.layer) + " is outside the model (" +
                             std::to_string(config.layer_count) + " layers)");
  std::vector<int> layers;
  for (int layer = 0; layer < config.layer_count; ++layer)
    if (settings.layer < 0 || layer == settings.layer) layers.push_back(layer);
  const int scanned = static_cast<int>(layers.size()) * config.head_count;
  if (settings.controls_per_head > scanned - 1)
    throw std::runtime_error(std::to_string(settings.controls_per_head) + " controls per head, but only " +
                             std::to_string(scanned - 1) + " other heads are scanned");
  const auto samples = load_sweep_samples(settings.samples, settings.run.model_dir, config.vocab_size);
  result.sample_count = static_cast<std::int64_t>(samples.size());
  for (const auto& sample : samples) result.token_count += static_cast<std::int64_t>(sample.ids.size());
  say(std::string("gain scan (") + sweep_kind_name(settings.kind) + ") of " + std::to_string(scanned) + " heads over " +
      std::to_string(result.scales.size()) + " scales, " + std::to_string(samples.size()) + " sample(s)");

  // [head in scan order][scale] mean max attention, pooled over tokens and samples.
  std::vector<std::vector<double>> curves(static_cast<std::size_t>(scanned), std::vector<double>(result.scales.size()));
  RunCounter counter(runs, static_cast<std::int64_t>(layers.size() * result.scales.size() * samples.size()));
  std::vector<store::HeadRef> heads;
  for (int layer : layers)
    for (int head = 0; head < config.head_count; ++head) heads.push_back({layer, head});
  for (std::size_t l = 0; l < layers.size(); ++l) {
    ProbedRunRequest request;
    request.loss = false;
    for (int head = 0; head < config.head_count; ++head) request.measured.push_back({layers[l], head});
    for (std::size_t c = 0; c < result.scales.size(); ++c) {
      model::Interventions list;
      for (int head = 0; head < config.head_count; ++head) {
        model::HeadIntervention edit;
        edit.layer = layers[l];
        edit.head = head;
        (settings.kind == SweepKind::query_scale ? edit.query_scale : edit.key_scale) = result.scales[c];
        list.heads.push_back(edit);
      }
      std::vector<double> sums(static_cast<std::size_t>(config.head_count), 0.0);
      std::vector<std::int64_t> counts(sums.size(), 0);
      for (const auto& sample : samples) {
        const auto run = run_probed(*model, sample.ids, list, request);
        for (std::size_t h = 0; h < sums.size(); ++h)
          for (float value : run.metrics[h][1])
            if (std::isfinite(value)) { sums[h] += value; ++counts[h]; }
        counter.ran(sample.ids.size(), "layer " + std::to_string(layers[l]) + ", scale " + commands::render_value(result.scales[c]));
      }
      for (std::size_t h = 0; h < sums.size(); ++h)
        curves[l * sums.size() + h][c] = counts[h] ? sums[h] / static_cast<double>(counts[h]) : std::nan("");
    }
  }

  std::vector<double> gains(heads.size());
  for (std::size_t i = 0; i < heads.size(); ++i) {
    GainScanRow row;
    row.head = heads[i];
    row.max_attention_by_scale = curves[i];
    row.fit = analysis::fit_gain(result.scales, curves[i]);
    row.trend = analysis::classify_trend(curves[i]);
    gains[i] = row.fit.slope;
    result.rows.push_back(row);
  }
  std::mt19937_64 generator(settings.seed);
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    std::vector<std::size_t> others;
    for (std::size_t j = 0; j < heads.size(); ++j)
      if (j != i) others.push_back(j);
    std::shuffle(others.begin(), others.end(), generator);
    others.resize(static_cast<std::size_t>(settings.controls_per_head));
    double sum = 0;
    for (std::size_t j : others) {
      result.rows[i].controls.push_back(heads[j]);
      sum += gains[j];
    }
    result.rows[i].control_gain = sum / static_cast<double>(others.size());
    result.rows[i].comparison = analysis::compare_gains(gains[i], result.rows[i].control_gain);
  }
  std::stable_sort(result.rows.begin(), result.rows.end(),
                   [](const GainScanRow& a, const GainScanRow& b) { return a.fit.slope > b.fit.slope; });
  return result;
}

}  // namespace headscope::sweep
