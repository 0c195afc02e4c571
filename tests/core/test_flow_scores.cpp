// K x K flow scores on hand-computed matrices, the causal/row-sum/shape checks (which must fail when they
// should), sample averages, ranking order, composite normalisation and the phase criteria.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/flow_scores.h"

namespace ha = headscope::analysis;

namespace {
// [K, K] lower-triangular matrix where every row puts all its mass on column `hub` (or on itself when hub > i).
std::vector<float> hub_matrix(int k, int hub) {
  std::vector<float> m(static_cast<std::size_t>(k * k), 0.0f);
  for (int i = 0; i < k; ++i) m[i * k + (hub <= i ? hub : i)] = 1.0f;
  return m;
}
}  // namespace

TEST(FlowScores, HandComputed) {
  const int k = 3;
  // rows: [1,0,0], [0.5,0.5,0], [0.2,0.3,0.5]
  const std::vector<float> m = {1, 0, 0, 0.5f, 0.5f, 0, 0.2f, 0.3f, 0.5f};
  const auto s = ha::score_flow_matrix(m.data(), k);
  EXPECT_NEAR(s.flow, (0.5 + 0.2 + 0.3) / 3.0, 1e-6);
  // column sums 1.7, 0.8, 0.5: mean 1.0, population variance (0.49 + 0.04 + 0.25) / 3
  EXPECT_NEAR(s.hub_score, 0.78 / 3, 1e-6);
  EXPECT_EQ(s.hub_position, 0);
  EXPECT_NEAR(s.skip, (0.2 + 0.3 + 0.5) / 3, 1e-6);
  EXPECT_NEAR(s.max_value, 1.0, 1e-6);
  EXPECT_TRUE(std::isnan(s.composite));
  const std::vector<float> zeros(9, 0.0f);
  EXPECT_EQ(ha::score_flow_matrix(zeros.data(), 3).flow, 0.0);
}

TEST(FlowScores, SixBySixHub) {
  const auto m = hub_matrix(6, 0);  // every row attends to position 0
  const auto s = ha::score_flow_matrix(m.data(), 6);
  EXPECT_EQ(s.hub_position, 0);
  EXPECT_NEAR(s.flow, 5.0 / 6.0, 1e-6);
  EXPECT_NEAR(s.hub_score, (25.0 + 5 * 1.0) / 6.0, 1e-6);  // column sums 6,0,0,0,0,0, mean 1
  EXPECT_NEAR(s.skip, 1.0 / 3.0, 1e-6);
}

TEST(FlowScores, CompositeNormalisedOverRun) {
  // [layer = 1, head = 3]: identity (no flow), hub at 0, hub at 2
  std::vector<float> run;
  for (int hub : {6, 0, 2}) {
    const auto m = hub_matrix(6, hub);
    run.insert(run.end(), m.begin(), m.end());
  }
  const auto scores = ha::score_flow_run(run.data(), 1, 3, 6);
  const auto& n = scores.normalization;
  EXPECT_NEAR(n.hub_min, 0.0, 1e-9);  // identity: every column sum 1
  EXPECT_NEAR(n.hub_max, 5.0, 1e-6);
  for (const auto& s : scores.heads) {
    const double hub_norm = (s.hub_score - n.hub_min) / (n.hub_max - n.hub_min);
    const double skip_norm = n.skip_max > n.skip_min ? (s.skip - n.skip_min) / (n.skip_max - n.skip_min) : 0.0;
    EXPECT_NEAR(s.composite, 0.4 * s.flow + 0.4 * hub_norm + 0.2 * skip_norm, 1e-9);
  }
  EXPECT_NEAR(scores.at(0, 1).composite, 0.4 * 5.0 / 6 + 0.4 + 0.2, 1e-6);
  EXPECT_NE(std::string(ha::FlowNormalization::kDescription).find("min-max"), std::string::npos);
}

TEST(FlowScores, RankingsOrder) {
  const std::vector<double> values = {0.3, std::nan(""), 0.9, 0.3, 0.5, 0.1};  // [layer = 2, head = 3]
  const auto ranking = ha::rank_heads(values, 2, 3);
  ASSERT_EQ(ranking.size(), 6u);
  EXPECT_EQ(ranking[0].layer, 0);
  EXPECT_EQ(ranking[0].head, 2);
  EXPECT_EQ(ranking[1].layer, 1);
  EXPECT_EQ(ranking[1].head, 1);
  EXPECT_EQ(ranking[2].head, 0);  // tie 0.3: (0, 0) before (1, 0)
  EXPECT_EQ(ranking[2].layer, 0);
  EXPECT_EQ(ranking[3].layer, 1);
  EXPECT_EQ(ranking[3].head, 0);
  EXPECT_TRUE(std::isnan(ranking[5].value));
  for (std::size_t i = 0; i < ranking.size(); ++i) {
    EXPECT_EQ(ranking[i].rank, static_cast<int>(i) + 1);
    if (i > 0 && !std::isnan(ranking[i].value)) {
      EXPECT_GE(ranking[i - 1].value, ranking[i].value);
    }
  }
}

TEST(FlowChecks, CausalRowsAndShape) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  const int layers = 2, heads = 3, k = 6;
  std::vector<float> data(static_cast<std::size_t>(layers * heads * k * k), 0.0f);
  for (int m = 0; m < layers * heads; ++m)
    for (int i = 0; i < k; ++i) {
      float sum = 0;
      for (int j = 0; j <= i; ++j) sum += data[(m * k + i) * k + j] = uniform(rng);
      const float keep = 0.5f + 0.5f * uniform(rng);  // the block keeps part of the full row's mass
      for (int j = 0; j <= i; ++j) data[(m * k + i) * k + j] *= keep / sum;
    }
  auto checks = ha::check_flow_matrices(data.data(), data.size(), layers, heads, k);
  EXPECT_TRUE(checks.passed()) << checks.shape_message;
  EXPECT_EQ(checks.max_upper_triangle, 0.0);
  EXPECT_LE(checks.max_row_sum, 1.0 + 1e-6);
  EXPECT_GT(checks.mean_outside_mass, 0.0);
  EXPECT_LE(checks.max_outside_mass, 0.5 + 1e-6);

  auto broken = data;
  broken[1] = 0.2f;  // A[0, 1] above the diagonal
  checks = ha::check_flow_matrices(broken.data(), broken.size(), layers, heads, k);
  EXPECT_FALSE(checks.passed());
  EXPECT_EQ(checks.upper_triangle_violations, 1);
  EXPECT_NEAR(checks.max_upper_triangle, 0.2, 1e-6);

  broken = data;
  broken[k * k - 1] = 1.5f;  // last row of the first block sums past 1
  checks = ha::check_flow_matrices(broken.data(), broken.size(), layers, heads, k);
  EXPECT_EQ(checks.row_sum_violations, 1);
  EXPECT_FALSE(checks.passed());

  checks = ha::check_flow_matrices(data.data(), data.size() - 1, layers, heads, k);
  EXPECT_FALSE(checks.shape_ok);
  EXPECT_FALSE(checks.shape_message.empty());
  checks = ha::check_flow_matrices(data.data(), data.size(), layers, heads * 4, 3);
  EXPECT_FALSE(checks.shape_ok);  // K = 3 where 6 was expected
}

TEST(FlowAverage, MeanAndPopulationStd) {
  // [sample = 2, layer = 1, head = 1, K = 2, K = 2]
  const std::vector<float> data = {1, 0, 0.2f, 0.8f, 1, 0, 0.6f, 0.4f};
  const auto average = ha::average_flow_matrices(data.data(), 2, 1, 1, 2);
  EXPECT_NEAR(average.mean[2], 0.4, 1e-6);
  EXPECT_NEAR(average.std[2], 0.2, 1e-6);
  EXPECT_NEAR(average.std[0], 0.0, 1e-6);
}

TEST(PhaseCriteria, PassFailItems) {
  std::vector<float> run;
  for (int h = 0; h < 12; ++h) {
    const auto m = hub_matrix(6, h < 2 ? 0 : 6);  // two hub heads among ten identity heads
    run.insert(run.end(), m.begin(), m.end());
  }
  const auto scores = ha::score_flow_run(run.data(), 2, 6, 6);
  ha::FlowAverage average;
  average.std.assign(run.size(), 0.05f);
  const auto criteria = ha::flow_phase_criteria(scores, &average);
  ASSERT_EQ(criteria.size(), 5u);
  EXPECT_TRUE(criteria[0].passed);   // every head has max 1 > 0.4
  EXPECT_TRUE(criteria[1].passed);   // mean std 0.05 < 0.2
  EXPECT_NEAR(criteria[1].value, 0.05, 1e-6);
  EXPECT_TRUE(criteria[2].passed);   // max hub 5 > 0.2
  EXPECT_TRUE(criteria[3].passed);   // top composite 0.4*5/6 + 0.4 + 0.2 > 0.6
  EXPECT_FALSE(criteria[4].passed);  // only 12 heads: top-10 mean is not 2x the bottom-12 mean
  const auto without_average = ha::flow_phase_criteria(scores, nullptr);
  EXPECT_FALSE(without_average[1].passed);
  EXPECT_TRUE(std::isnan(without_average[1].value));
}
