// Peak picking on windowed-JSD traces and boundary precision/recall (rules stated in jsd_peaks.h).
#include "core/analysis/jsd_peaks.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <tuple>

namespace headscope::analysis {

std::vector<int> pick_jsd_peaks(const std::vector<double>& trace, const PeakOptions& options) {
  double sum = 0, sum_squares = 0;
  int finite = 0;
  for (double v : trace)
    if (std::isfinite(v)) {
      sum += v;
      ++finite;
    }
  if (finite == 0) return {};
  const double mean = sum / finite;
  for (double v : trace)
    if (std::isfinite(v)) sum_squares += (v - mean) * (v - mean);
  const double threshold = mean + options.z * std::sqrt(sum_squares / finite);

  const int n = static_cast<int>(trace.size());
  const auto value_at = [&](int i) {
    return i >= 0 && i < n && std::isfinite(trace[i]) ? trace[i] : -std::numeric_limits<double>::infinity();
  };
  std::vector<int> candidates;
  for (int i = 0; i < n; ++i) {
    const double v = trace[i];
    if (std::isfinite(v) && v >= threshold && v > value_at(i - 1) && v >= value_at(i + 1))
      candidates.push_back(i);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) { return trace[a] > trace[b]; });
  std::vector<int> kept;
  for (int candidate : candidates) {
    const bool far = std::all_of(kept.begin(), kept.end(), [&](int k) {
      return std::abs(k - candidate) >= options.min_separation;
    });
    if (far) kept.push_back(candidate);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

BoundaryScore score_boundaries(const std::vector<int>& predicted, const std::vector<int>& recorded,
                               int tolerance) {
  BoundaryScore score;
  score.predicted_count = static_cast<int>(predicted.size());
  score.recorded_count = static_cast<int>(recorded.size());
  std::vector<std::tuple<int, int, int, std::size_t, std::size_t>> pairs;  // distance, p, r, indices
  for (std::size_t i = 0; i < predicted.size(); ++i)
    for (std::size_t j = 0; j < recorded.size(); ++j) {
      const int distance = std::abs(predicted[i] - recorded[j]);
      if (distance <= tolerance) pairs.emplace_back(distance, predicted[i], recorded[j], i, j);
    }
  std::sort(pairs.begin(), pairs.end());
  std::vector<bool> predicted_used(predicted.size()), recorded_used(recorded.size());
  for (const auto& [distance, p, r, i, j] : pairs) {
    (void)distance;
    if (predicted_used[i] || recorded_used[j]) continue;
    predicted_used[i] = recorded_used[j] = true;
    score.matches.push_back({p, r});
  }
  score.true_positives = static_cast<int>(score.matches.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  score.precision = predicted.empty() ? nan : static_cast<double>(score.true_positives) / predicted.size();
  score.recall = recorded.empty() ? nan : static_cast<double>(score.true_positives) / recorded.size();
  if (std::isnan(score.precision) || std::isnan(score.recall)) score.f1 = nan;
  else if (score.precision + score.recall == 0) score.f1 = 0;
  else score.f1 = 2 * score.precision * score.recall / (score.precision + score.recall);
  return score;
}

}  // namespace headscope::analysis
