// K x K flow scores, checks, sample averages, rankings and phase criteria (see flow_scores.h).
#include "core/analysis/flow_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/analysis/aggregate.h"

namespace headscope::analysis {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double scaled(double value, double low, double high) {
  if (std::isnan(value)) return kNaN;
  return high > low ? (value - low) / (high - low) : 0.0;
}
}  // namespace

FlowHeadScores score_flow_matrix(const float* matrix, int k) {
  FlowHeadScores scores;
  double below = 0, on_or_below = 0;
  std::vector<double> column_sums(static_cast<std::size_t>(k), 0.0);
  scores.max_value = k > 0 ? -std::numeric_limits<double>::infinity() : kNaN;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      const double a = matrix[i * k + j];
      if (j < i) below += a;
      if (j <= i) on_or_below += a;
      column_sums[j] += a;
      scores.max_value = std::max(scores.max_value, a);
    }
  scores.flow = on_or_below != 0 ? below / on_or_below : 0.0;
  double mean = 0;
  for (double s : column_sums) mean += s / k;
  double variance = 0;
  for (double s : column_sums) variance += (s - mean) * (s - mean) / k;
  scores.hub_score = k > 0 ? variance : kNaN;
  const auto hub = std::max_element(column_sums.begin(), column_sums.end());
  scores.hub_position = static_cast<int>(hub - column_sums.begin());
  const float* last_row = matrix + (k - 1) * k;
  scores.skip = k >= 3 ? (static_cast<double>(last_row[0]) + last_row[1] + last_row[2]) / 3.0 : kNaN;
  scores.composite = kNaN;
  return scores;
}

FlowRunScores score_flow_run(const float* matrices, int layer_count, int head_count, int k) {
  FlowRunScores run;
  run.layer_count = layer_count;
  run.head_count = head_count;
  run.k = k;
  const int heads = layer_count * head_count;
  for (int h = 0; h < heads; ++h)
    run.heads.push_back(score_flow_matrix(matrices + static_cast<std::size_t>(h) * k * k, k));
  run.normalization = flow_normalization_bounds(run.heads);
  apply_flow_normalization(run.heads, run.normalization);
  return run;
}

FlowNormalization flow_normalization_bounds(const std::vector<FlowHeadScores>& heads) {
  FlowNormalization norm;
  norm.hub_min = norm.skip_min = std::numeric_limits<double>::infinity();
  norm.hub_max = norm.skip_max = -std::numeric_limits<double>::infinity();
  for (const auto& s : heads) {
    if (!std::isnan(s.hub_score)) {
      norm.hub_min = std::min(norm.hub_min, s.hub_score);
      norm.hub_max = std::max(norm.hub_max, s.hub_score);
    }
    if (!std::isnan(s.skip)) {
      norm.skip_min = std::min(norm.skip_min, s.skip);
      norm.skip_max = std::max(norm.skip_max, s.skip);
    }
  }
  return norm;
}

FlowNormalization merge_flow_normalizations(const FlowNormalization& a, const FlowNormalization& b) {
  FlowNormalization merged;
  merged.hub_min = std::min(a.hub_min, b.hub_min);
  merged.hub_max = std::max(a.hub_max, b.hub_max);
  merged.skip_min = std::min(a.skip_min, b.skip_min);
  merged.skip_max = std::max(a.skip_max, b.skip_max);
  return merged;
}

void apply_flow_normalization(std::vector<FlowHeadScores>& heads, const FlowNormalization& norm) {
  for (auto& s : heads)
    s.composite = 0.4 * s.flow + 0.4 * scaled(s.hub_score, norm.hub_min, norm.hub_max) +
                  0.2 * scaled(s.skip, norm.skip_min, norm.skip_max);
}

FlowChecks check_flow_matrices(const float* data, std::size_t value_count, int layer_count, int head_count,
                               int k, int expected_k, double tolerance) {
  FlowChecks checks;
  checks.tolerance = tolerance;
  const std::size_t expected = static_cast<std::size_t>(layer_count) * head_count * k * k;
  checks.shape_ok = value_count == expected && k == expected_k && layer_count > 0 && head_count > 0;
  if (!checks.shape_ok) {
    const std::size_t wanted = static_cast<std::size_t>(layer_count) * head_count * expected_k * expected_k;
    checks.shape_message = "flow matrices: expected [" + std::to_string(layer_count) + ", " +
                           std::to_string(head_count) + ", " + std::to_string(expected_k) + ", " +
                           std::to_string(expected_k) + "] (" + std::to_string(wanted) + " values), got K = " +
                           std::to_string(k) + " and " + std::to_string(value_count) + " values";
    if (value_count < expected) return checks;
  }
  const std::size_t rows = static_cast<std::size_t>(layer_count) * head_count * k;
  double outside_total = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = data + r * k;
    const int i = static_cast<int>(r % k);
    double sum = 0;
    for (int j = 0; j < k; ++j) {
      sum += row[j];
      if (row[j] < -tolerance) ++checks.negative_entries;
      if (j > i) {
        checks.max_upper_triangle = std::max(checks.max_upper_triangle, std::fabs(static_cast<double>(row[j])));
        if (std::fabs(row[j]) > tolerance) ++checks.upper_triangle_violations;
      }
    }
    checks.max_row_sum = std::max(checks.max_row_sum, sum);
    if (sum > 1.0 + tolerance) ++checks.row_sum_violations;
    const double outside = std::max(0.0, 1.0 - sum);
    checks.max_outside_mass = std::max(checks.max_outside_mass, outside);
    outside_total += outside;
  }
  checks.mean_outside_mass = rows > 0 ? outside_total / rows : 0.0;
  return checks;
}

FlowAverage average_flow_matrices(const float* data, int sample_count, int layer_count, int head_count, int k) {
  FlowAverage average;
  average.sample_count = sample_count;
  average.layer_count = layer_count;
  average.head_count = head_count;
  average.k = k;
  const std::size_t cells = static_cast<std::size_t>(layer_count) * head_count * k * k;
  average.mean.resize(cells);
  average.std.resize(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    const NanStats s = nan_stats(data + c, static_cast<std::size_t>(sample_count),
                                 static_cast<std::ptrdiff_t>(cells), StdKind::population);
    average.mean[c] = static_cast<float>(s.mean);
    average.std[c] = static_cast<float>(s.std);
  }
  return average;
}

const char* flow_score_name(FlowScoreKind kind) {
  switch (kind) {
    case FlowScoreKind::flow: return "flow";
    case FlowScoreKind::hub_score: return "hub_score";
    case FlowScoreKind::skip: return "skip";
    case FlowScoreKind::composite: break;
  }
  return "composite";
}

std::vector<RankedHead> rank_heads(const std::vector<double>& values, int layer_count, int head_count) {
  std::vector<RankedHead> ranking;
  for (int layer = 0; layer < layer_count; ++layer)
    for (int head = 0; head < head_count; ++head)
      ranking.push_back({layer, head, values[static_cast<std::size_t>(layer * head_count + head)], 0});
  std::stable_sort(ranking.begin(), ranking.end(), [](const RankedHead& a, const RankedHead& b) {
    if (std::isnan(a.value) || std::isnan(b.value)) return !std::isnan(a.value) && std::isnan(b.value);
    return a.value > b.value;
  });
  for (std::size_t i = 0; i < ranking.size(); ++i) ranking[i].rank = static_cast<int>(i) + 1;
  return ranking;
}

std::vector<RankedHead> rank_heads(const FlowRunScores& scores, FlowScoreKind kind) {
  std::vector<double> values;
  for (const auto& s : scores.heads)
    values.push_back(kind == FlowScoreKind::flow        ? s.flow
                     : kind == FlowScoreKind::hub_score ? s.hub_score
                     : kind == FlowScoreKind::skip      ? s.skip
                                                        : s.composite);
  return rank_heads(values, scores.layer_count, scores.head_count);
}

std::vector<PhaseCriterion> flow_phase_criteria(const FlowRunScores& scores, const FlowAverage* average) {
  std::vector<PhaseCriterion> criteria;
  const std::size_t n = scores.heads.size();
  std::size_t sharp = 0;
  double max_hub = kNaN;
  for (const auto& s : scores.heads) {
    sharp += s.max_value > 0.4 ? 1 : 0;
    if (!std::isnan(s.hub_score) && !(s.hub_score <= max_hub)) max_hub = s.hub_score;
  }
  const double sharp_share = n > 0 ? static_cast<double>(sharp) / n : kNaN;
  criteria.push_back({"share of heads with max attention > 0.4", sharp_share, 0.10, sharp_share > 0.10});
  const double mean_std = average ? nan_stats(average->std.data(), average->std.size()).mean : kNaN;
  criteria.push_back({"mean std across problems", mean_std, 0.2, mean_std < 0.2});
  criteria.push_back({"max hub score", max_hub, 0.2, max_hub > 0.2});
  const auto ranking = rank_heads(scores, FlowScoreKind::composite);
  std::vector<double> composites;
  for (const auto& r : ranking)
    if (!std::isnan(r.value)) composites.push_back(r.value);  // descending
  const double top = composites.empty() ? kNaN : composites.front();
  criteria.push_back({"top composite score", top, 0.6, top > 0.6});
  const auto [top_mean, bottom_mean] = composite_top_bottom(composites);
  const bool any = !composites.empty();
  criteria.push_back({"top-10 mean composite / bottom-50 mean", any ? top_mean / bottom_mean : kNaN, 2.0,
                      any && top_mean > 2.0 * bottom_mean});
  return criteria;
}

CompositeTopBottom composite_top_bottom(const std::vector<double>& descending) {
  if (descending.empty()) return {kNaN, kNaN};
  const std::size_t top_n = std::min<std::size_t>(10, descending.size());
  const std::size_t bottom_n = std::min<std::size_t>(50, descending.size());
  CompositeTopBottom means;
  for (std::size_t i = 0; i < top_n; ++i) means.top_mean += descending[i] / top_n;
  for (std::size_t i = descending.size() - bottom_n; i < descending.size(); ++i)
    means.bottom_mean += descending[i] / bottom_n;
  return means;
}

}  // namespace headscope::analysis
