// The sweep bootstrap (see sweep_bootstrap.h): per resample, how often each sample was drawn, then the
// token-weighted condition means, the gains and the ratios; the intervals are percentiles over resamples.
#include "core/analysis/sweep_bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/analysis/gain.h"

namespace headscope::analysis {

double percentile(std::vector<double> values, double q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

namespace {

Interval interval_of(const std::vector<double>& values, double confidence) {
  const double tail = (1 - confidence) / 2;
  return {percentile(values, tail), percentile(values, 1 - tail)};
}

double slope_or_nan(const std::vector<double>& scales, const std::vector<double>& y) {
  for (double v : y)
    if (!std::isfinite(v)) return std::nan("");
  try {
    return fit_gain(scales, y).slope;
  } catch (const GainError&) {
    return std::nan("");
  }
}

}  // namespace

SweepBootstrap bootstrap_sweep(const std::vector<double>& scales, const SweepSampleMeans& data, const BootstrapOptions& options) {
  const std::size_t conditions = data.conditions, heads = data.heads, samples = data.samples;
  const std::size_t controls = heads > 0 ? heads - 1 : 0;
  const double nan = std::nan("");
  SweepBootstrap result;
  result.seed = options.seed;
  result.confidence = options.confidence;
  result.gain.assign(heads, {nan, nan});
  result.ratio.assign(controls, {nan, nan});
  result.ratio_versus_mean_control = {nan, nan};
  result.control_flat.assign(controls, 0);
  result.condition_mean.assign(conditions * heads, {nan, nan});
  if (samples < 2) {
    result.note = samples == 0 ? "no samples" : "1 sample: no across-sample spread to resample, so no intervals";
    return result;
  }
  if (options.resamples < 1) {
    result.note = "bootstrap not run (0 resamples)";
    return result;
  }
  result.resamples = options.resamples;
  const auto resamples = static_cast<std::size_t>(options.resamples);
  std::vector<std::vector<double>> gains(heads), ratios(controls), means(conditions * heads);
  std::vector<double> versus_mean;
  std::mt19937_64 generator(options.seed);
  std::uniform_int_distribution<std::size_t> pick(0, samples - 1);
  std::vector<double> drawn(samples);
  std::vector<double> y(conditions);
  std::vector<double> head_gain(heads);
  for (std::size_t b = 0; b < resamples; ++b) {
    std::fill(drawn.begin(), drawn.end(), 0.0);
    for (std::size_t i = 0; i < samples; ++i) drawn[pick(generator)] += 1;
    for (std::size_t h = 0; h < heads; ++h) {
      for (std::size_t c = 0; c < conditions; ++c) {
        double sum = 0, weight = 0;
        for (std::size_t s = 0; s < samples; ++s) {
          const double m = data.at(data.mean, c, h, s), n = data.at(data.n, c, h, s);
          if (drawn[s] == 0 || !(n > 0) || !std::isfinite(m)) continue;
          sum += drawn[s] * n * m;
          weight += drawn[s] * n;
        }
        y[c] = weight > 0 ? sum / weight : nan;
        means[c * heads + h].push_back(y[c]);
      }
      head_gain[h] = slope_or_nan(scales, y);
      gains[h].push_back(head_gain[h]);
    }
    double control_sum = 0;
    std::size_t control_count = 0;
    for (std::size_t c = 0; c < controls; ++c) {
      ratios[c].push_back(head_gain[0] / head_gain[c + 1]);
      if (std::isfinite(head_gain[c + 1])) control_sum += head_gain[c + 1], ++control_count;
    }
    if (controls > 0) versus_mean.push_back(control_count == controls ? head_gain[0] / (control_sum / static_cast<double>(control_count)) : nan);
  }
  for (std::size_t h = 0; h < heads; ++h) result.gain[h] = interval_of(gains[h], options.confidence);
  for (std::size_t c = 0; c < controls; ++c) {
    result.ratio[c] = interval_of(ratios[c], options.confidence);
    result.control_flat[c] = result.gain[c + 1].contains(0.0);
  }
  if (controls > 0) result.ratio_versus_mean_control = interval_of(versus_mean, options.confidence);
  for (std::size_t i = 0; i < means.size(); ++i) result.condition_mean[i] = interval_of(means[i], options.confidence);
  return result;
}

}  // namespace headscope::analysis
