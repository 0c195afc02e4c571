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
  double below = 0, on_or_below = 0, sub_diagonal = 0;
  std::vector<double> column_sums(static_cast<std::size_t>(k), 0.0);
  scores.max_value = k > 0 ? -std::numeric_limits<double>::infinity() : kNaN;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      const double a = matrix[i * k + j];
      if (j < i) below += a;
      if (j == i - 1) sub_diagonal += a;
      if (j <= i) on_or_below += a;
      column_sums[j] += a;
      scores.max_value = std::max(scores.max_value, a);
    }
  scores.flow = on_or_below != 0 ? below / on_or_below : 0.0;
  scores.sequential = on_or_below != 0 ? sub_diagonal / on_or_below : 0.0;
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
  const std::size_t rows = static_cast<std::size_t>(heads) * k;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = matrices + r * k;
    run.row_max.push_back(k > 0 ? *std::max_element(row, row + k) : kNaN);
  }
  run.normalization = flow_normalization_bounds(run.heads);
  apply_flow_normalization(run.heads, run.normalization);
  return run;
}

namespace {
// The normalised components, declared once: the score, its bounds, in the functional types' order.
struct NormalizedComponent {
  FunctionalType type;
  double FlowHeadScores::*score;
  double FlowNormalization::*low;
  double FlowNormalization::*high;
};
constexpr NormalizedComponent kComponents[kFunctionalTypeCount] = {
    {FunctionalType::flow, &FlowHeadScores::flow, &FlowNormalization::flow_min, &FlowNormalization::flow_max},
    {FunctionalType::hub, &FlowHeadScores::hub_score, &FlowNormalization::hub_min, &FlowNormalization::hub_max},
    {FunctionalType::skip, &FlowHeadScores::skip, &FlowNormalization::skip_min, &FlowNormalization::skip_max},
    {FunctionalType::sequential, &FlowHeadScores::sequential, &FlowNormalization::sequential_min,
     &FlowNormalization::sequential_max},
};
}  // namespace

const char* functional_type_name(FunctionalType type) {
  switch (type) {
    case FunctionalType::flow: return "flow";
    case FunctionalType::hub: return "hub";
    case FunctionalType::skip: return "skip";
    case FunctionalType::sequential: break;
  }
  return "sequential";
}

std::string functional_type_codes() {
  std::string codes;
  for (int t = 0; t < kFunctionalTypeCount; ++t)
    codes += (t ? ", " : "") + std::to_string(t) + " " + functional_type_name(FunctionalType(t));
  return codes;
}

FlowNormalization flow_normalization_bounds(const std::vector<FlowHeadScores>& heads) {
  FlowNormalization norm;
  for (const auto& c : kComponents) {
    norm.*c.low = std::numeric_limits<double>::infinity();
    norm.*c.high = -std::numeric_limits<double>::infinity();
    for (const auto& s : heads)
      if (!std::isnan(s.*c.score)) {
        norm.*c.low = std::min(norm.*c.low, s.*c.score);
        norm.*c.high = std::max(norm.*c.high, s.*c.score);
      }
  }
  return norm;
}

FlowNormalization merge_flow_normalizations(const FlowNormalization& a, const FlowNormalization& b) {
  FlowNormalization merged;
  for (const auto& c : kComponents) {
    merged.*c.low = std::min(a.*c.low, b.*c.low);
    merged.*c.high = std::max(a.*c.high, b.*c.high);
  }
  return merged;
}

void apply_flow_normalization(std::vector<FlowHeadScores>& heads, const FlowNormalization& norm) {
  for (auto& s : heads) {
    s.composite = 0.4 * s.flow + 0.4 * scaled(s.hub_score, norm.hub_min, norm.hub_max) +
                  0.2 * scaled(s.skip, norm.skip_min, norm.skip_max);
    double best = -std::numeric_limits<double>::infinity();
    s.functional_type = 0;
    for (const auto& c : kComponents) {
      const double value = scaled(s.*c.score, norm.*c.low, norm.*c.high);
      if (value > best) best = value, s.functional_type = static_cast<int>(c.type);  // strict: ties keep the earlier
    }
  }
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
    case FlowScoreKind::sequential: return "sequential";
    case FlowScoreKind::composite: break;
  }
  return "composite";
}

double flow_score_value(const FlowHeadScores& s, FlowScoreKind kind) {
  switch (kind) {
    case FlowScoreKind::flow: return s.flow;
    case FlowScoreKind::hub_score: return s.hub_score;
    case FlowScoreKind::skip: return s.skip;
    case FlowScoreKind::sequential: return s.sequential;
    case FlowScoreKind::composite: break;
  }
  return s.composite;
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
  for (const auto& s : scores.heads) values.push_back(flow_score_value(s, kind));
  return rank_heads(values, scores.layer_count, scores.head_count);
}

namespace {
// The pieces both lists share.
double sharp_head_share(const FlowRunScores& scores) {
  std::size_t sharp = 0;
  for (const auto& s : scores.heads) sharp += s.max_value > kSharpAttention ? 1 : 0;
  return scores.heads.empty() ? kNaN : static_cast<double>(sharp) / static_cast<double>(scores.heads.size());
}
PhaseCriterion mean_std_criterion(const FlowAverage* average) {
  const double mean_std = average ? nan_stats(average->std.data(), average->std.size()).mean : kNaN;
  return {"mean std across problems", mean_std, 0.2, mean_std < 0.2};
}
PhaseCriterion max_hub_criterion(const FlowRunScores& scores) {
  double max_hub = kNaN;
  for (const auto& s : scores.heads)
    if (!std::isnan(s.hub_score) && !(s.hub_score <= max_hub)) max_hub = s.hub_score;
  return {"max hub score", max_hub, 0.2, max_hub > 0.2};
}
// Composites of the run, descending, NaN dropped.
std::vector<double> descending_composites(const FlowRunScores& scores) {
  std::vector<double> composites;
  for (const auto& r : rank_heads(scores, FlowScoreKind::composite))
    if (!std::isnan(r.value)) composites.push_back(r.value);
  return composites;
}
PhaseCriterion top_composite_criterion(const std::vector<double>& composites) {
  const double top = composites.empty() ? kNaN : composites.front();
  return {"top composite score", top, 0.6, top > 0.6};
}
PhaseCriterion top_bottom_criterion(const std::string& name, const std::vector<double>& composites,
                                    const CompositeTopBottom& means) {
  const bool any = !composites.empty();
  return {name, any ? means.top_mean / means.bottom_mean : kNaN, 2.0, any && means.top_mean > 2.0 * means.bottom_mean};
}
}  // namespace

std::vector<PhaseCriterion> flow_phase_criteria(const FlowRunScores& scores, const FlowAverage* average) {
  const double sharp_share = sharp_head_share(scores);
  const auto composites = descending_composites(scores);
  return {{"share of heads with max attention > 0.4", sharp_share, 0.10, sharp_share > 0.10},
          mean_std_criterion(average),
          max_hub_criterion(scores),
          top_composite_criterion(composites),
          top_bottom_criterion("top-10 mean composite / bottom-50 mean", composites, composite_top_bottom(composites))};
}

double sharp_row_share(const FlowRunScores& scores) {
  std::size_t sharp = 0, rows = 0;
  for (double value : scores.row_max)
    if (!std::isnan(value)) ++rows, sharp += value > kSharpAttention ? 1 : 0;
  return rows > 0 ? static_cast<double>(sharp) / static_cast<double>(rows) : kNaN;
}

std::vector<int> top_functional_types(const FlowRunScores& scores, int top) {
  std::vector<int> counts(kFunctionalTypeCount, 0);
  int taken = 0;
  for (const auto& r : rank_heads(scores, FlowScoreKind::composite)) {
    if (taken++ >= top || std::isnan(r.value)) break;
    counts[static_cast<std::size_t>(scores.at(r.layer, r.head).functional_type)] += 1;
  }
  return counts;
}

std::vector<PhaseCriterion> seed_phase_criteria(const FlowRunScores& scores, const FlowAverage* average) {
  std::vector<PhaseCriterion> criteria;
  const double row_share = sharp_row_share(scores), head_share = sharp_head_share(scores);
  criteria.push_back({"share of row maxima > 0.4 ([layer, head, row], as the seed computed it)", row_share, 0.10,
                      row_share > 0.10, 1, "sharp_rows"});
  criteria.push_back({"share of heads whose matrix max > 0.4 (per head)", head_share, 0.10, head_share > 0.10, 1, "sharp_heads"});
  PhaseCriterion mean_std = mean_std_criterion(average), max_hub = max_hub_criterion(scores);
  mean_std.key = "mean_std", max_hub.key = "max_hub";
  for (PhaseCriterion* c : {&mean_std, &max_hub}) {
    c->phase = 1;
    criteria.push_back(*c);
  }
  const auto composites = descending_composites(scores);
  const TopBottomCounts counts = top_bottom_counts(static_cast<int>(composites.size()));
  PhaseCriterion top = top_composite_criterion(composites);
  PhaseCriterion gap = top_bottom_criterion("top-" + std::to_string(counts.top) + " mean composite / bottom-" +
                                                std::to_string(counts.bottom) + " mean",
                                            composites, composite_top_bottom(composites, counts));
  const auto types = top_functional_types(scores, counts.top);
  const int distinct = static_cast<int>(std::count_if(types.begin(), types.end(), [](int n) { return n > 0; }));
  PhaseCriterion span{"functional types among the top " + std::to_string(counts.top) + " heads", static_cast<double>(distinct),
                      1.0, distinct > 1};
  top.key = "top_composite", gap.key = "top_bottom", span.key = "type_span";
  for (PhaseCriterion* c : {&top, &gap, &span}) {
    c->phase = 2;
    criteria.push_back(*c);
  }
  return criteria;
}

CompositeTopBottom composite_top_bottom(const std::vector<double>& descending) {
  return composite_top_bottom(descending, {10, 50, static_cast<int>(descending.size()), false});
}

CompositeTopBottom composite_top_bottom(const std::vector<double>& descending, const TopBottomCounts& counts) {
  if (descending.empty()) return {kNaN, kNaN};
  const std::size_t top_n = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, counts.top)), descending.size());
  const std::size_t bottom_n = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, counts.bottom)), descending.size());
  CompositeTopBottom means;
  for (std::size_t i = 0; i < top_n; ++i) means.top_mean += descending[i] / top_n;
  for (std::size_t i = descending.size() - bottom_n; i < descending.size(); ++i)
    means.bottom_mean += descending[i] / bottom_n;
  return means;
}

TopBottomCounts top_bottom_counts(int head_count) {
  if (head_count >= 100) return {10, 50, head_count, false};
  return {std::max(1, static_cast<int>(std::lround(0.1 * head_count))), std::max(1, head_count / 2), head_count, true};
}

std::string TopBottomCounts::describe() const {
  return "top " + std::to_string(top) + " / bottom " + std::to_string(bottom) + " of " + std::to_string(heads) + " heads (" +
         (fractions ? "10 % / 50 %: fewer than 100 heads" : "the seed's 10 / 50") + ")";
}

}  // namespace headscope::analysis
