// The chance baseline of boundary detection (see boundary_chance.h).
#include "core/analysis/boundary_chance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace headscope::analysis {

namespace {

struct Pool {
  long true_positives = 0, predicted = 0, recorded = 0;
  void add(const BoundaryScore& score) {
    true_positives += score.true_positives;
    predicted += score.predicted_count;
    recorded += score.recorded_count;
  }
  PrfTriple ratios() const {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    PrfTriple r;
    r.precision = predicted ? double(true_positives) / predicted : nan;
    r.recall = recorded ? double(true_positives) / recorded : nan;
    if (std::isnan(r.precision) || std::isnan(r.recall)) r.f1 = nan;
    else r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0;
    return r;
  }
};

// `count` distinct positions of `eligible`, by a partial Fisher-Yates shuffle of a copy.
std::vector<int> draw_positions(std::vector<int> eligible, std::size_t count, std::mt19937_64& rng) {
  count = std::min(count, eligible.size());
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(rng() % (eligible.size() - i));
    std::swap(eligible[i], eligible[j]);
  }
  eligible.resize(count);
  std::sort(eligible.begin(), eligible.end());
  return eligible;
}

}  // namespace

PrfTriple pooled_score(const std::vector<BoundaryCase>& cases, int tolerance) {
  Pool pool;
  for (const auto& c : cases) pool.add(score_boundaries(c.predicted, c.recorded, tolerance));
  return pool.ratios();
}

ChanceBaseline chance_baseline(const std::vector<BoundaryCase>& cases, int tolerance, const ChanceOptions& options) {
  ChanceBaseline result;
  result.observed = pooled_score(cases, tolerance);
  result.draws = options.draws;
  std::mt19937_64 rng(options.seed);
  double sums[3] = {0, 0, 0}, at_least[3] = {0, 0, 0};
  int finite[3] = {0, 0, 0};
  const double observed[3] = {result.observed.precision, result.observed.recall, result.observed.f1};
  for (int draw = 0; draw < options.draws; ++draw) {
    Pool pool;
    for (const auto& c : cases)
      pool.add(score_boundaries(draw_positions(c.eligible, c.predicted.size(), rng), c.recorded, tolerance));
    const PrfTriple r = pool.ratios();
    const double values[3] = {r.precision, r.recall, r.f1};
    for (int k = 0; k < 3; ++k) {
      if (std::isnan(values[k])) continue;
      sums[k] += values[k];
      ++finite[k];
      if (values[k] >= observed[k]) at_least[k] += 1;
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double* means[3] = {&result.chance_mean.precision, &result.chance_mean.recall, &result.chance_mean.f1};
  double* fractions[3] = {&result.at_least_observed.precision, &result.at_least_observed.recall, &result.at_least_observed.f1};
  for (int k = 0; k < 3; ++k) {
    *means[k] = finite[k] ? sums[k] / finite[k] : nan;
    *fractions[k] = finite[k] && !std::isnan(observed[k]) ? at_least[k] / finite[k] : nan;
  }
  return result;
}

std::vector<int> finite_positions(const std::vector<double>& trace) {
  std::vector<int> positions;
  for (std::size_t i = 0; i < trace.size(); ++i)
    if (std::isfinite(trace[i])) positions.push_back(static_cast<int>(i));
  return positions;
}

}  // namespace headscope::analysis
