// The CODI seed's 6x6 analysis on hand-built matrices (METRICS.md "K×K flow matrices"): sequential flow
// with the METRICS.md values, functional types with their tie order, criterion 1 read per row as the seed
// computed it against the per-head reading, the top/bottom groups of small models, the criteria's order.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/flow_scores.h"

namespace ha = headscope::analysis;

namespace {
constexpr int kK = 6;

std::vector<float> uniform_full() { return std::vector<float>(kK * kK, 1.0f / kK); }
// Identity plus ones below the diagonal: the seed's "sequential pattern".
std::vector<float> identity_and_sub_diagonal() {
  std::vector<float> m(kK * kK, 0.0f);
  for (int i = 0; i < kK; ++i) {
    m[i * kK + i] = 1;
    if (i > 0) m[i * kK + i - 1] = 1;
  }
  return m;
}
// Every row i on column `column` (itself when column > i); row 0 empty when `skip_first_row`.
std::vector<float> column_matrix(int column, bool skip_first_row = false) {
  std::vector<float> m(kK * kK, 0.0f);
  for (int i = skip_first_row ? 1 : 0; i < kK; ++i) m[i * kK + (column <= i ? column : i)] = 1;
  return m;
}
// Row 0 to itself, every later row to the position before it.
std::vector<float> sub_diagonal() {
  std::vector<float> m(kK * kK, 0.0f);
  m[0] = 1;
  for (int i = 1; i < kK; ++i) m[i * kK + i - 1] = 1;
  return m;
}
// 0.1 on and below the diagonal, plus `sharp` at [K-1, 0].
std::vector<float> flat(float sharp = 0.1f) {
  std::vector<float> m(kK * kK, 0.0f);
  for (int i = 0; i < kK; ++i)
    for (int j = 0; j <= i; ++j) m[i * kK + j] = 0.1f;
  m[(kK - 1) * kK] = sharp;
  return m;
}
std::vector<float> join(const std::vector<std::vector<float>>& heads) {
  std::vector<float> run;
  for (const auto& m : heads) run.insert(run.end(), m.begin(), m.end());
  return run;
}
}  // namespace

TEST(FlowSeed, SequentialFlowHasMetricsValues) {
  EXPECT_NEAR(ha::score_flow_matrix(uniform_full().data(), kK).sequential, 5.0 / 21, 1e-6);
  EXPECT_NEAR(ha::score_flow_matrix(identity_and_sub_diagonal().data(), kK).sequential, 5.0 / 11, 1e-6);
  EXPECT_NEAR(ha::score_flow_matrix(sub_diagonal().data(), kK).sequential, 5.0 / 6, 1e-6);
  const std::vector<float> zeros(kK * kK, 0.0f);
  EXPECT_EQ(ha::score_flow_matrix(zeros.data(), kK).sequential, 0.0);
  const auto ranking = ha::rank_heads(ha::score_flow_run(join({uniform_full(), sub_diagonal()}).data(), 1, 2, kK),
                                      ha::FlowScoreKind::sequential);
  EXPECT_EQ(ranking.front().head, 1);
  EXPECT_STREQ(ha::flow_score_name(ha::FlowScoreKind::sequential), "sequential");
}

// identity: every normalised score 0, a four-way tie -> flow. Hub at 0: flow, hub and skip all at their run
// maxima -> hub (hub before skip; flow is not the maximum: the flow-only head's 1 beats 5/6). Sub-diagonal:
// sequential 5/6 is the run's maximum while its hub and skip are low -> sequential. Flow-only head (row 0
// empty, rows 1.. on position 0): flow 1 and skip 1/3 both maximal -> flow (flow before skip).
TEST(FlowSeed, FunctionalTypesTakeTheLargestNormalisedScoreTiesInOrder) {
  const auto scores = ha::score_flow_run(join({column_matrix(kK), column_matrix(0), sub_diagonal(), column_matrix(0, true)}).data(),
                                         1, 4, kK);
  using T = ha::FunctionalType;
  EXPECT_EQ(T(scores.at(0, 0).functional_type), T::flow);
  EXPECT_EQ(T(scores.at(0, 1).functional_type), T::hub);
  EXPECT_EQ(T(scores.at(0, 2).functional_type), T::sequential);
  EXPECT_EQ(T(scores.at(0, 3).functional_type), T::flow);
  EXPECT_NEAR(scores.normalization.flow_max, 1.0, 1e-9);
  EXPECT_NEAR(scores.normalization.sequential_max, 5.0 / 6, 1e-6);
  EXPECT_EQ(ha::top_functional_types(scores, 4), (std::vector<int>{2, 1, 0, 1}));
  EXPECT_EQ(ha::functional_type_codes(), "0 flow, 1 hub, 2 skip, 3 sequential");
}

// Two of ten flat heads carry one entry of 0.5: the per-head reading (2 of 10 heads = 20 % > 10 %) passes,
// the seed's per-row reading (2 of 60 row maxima = 3.3 %) fails.
TEST(FlowSeed, CriterionOneReadPerRowDiffersFromPerHead) {
  std::vector<std::vector<float>> heads(10, flat());
  heads[3] = heads[7] = flat(0.5f);
  const auto scores = ha::score_flow_run(join(heads).data(), 2, 5, kK);
  ASSERT_EQ(scores.row_max.size(), 60u);
  EXPECT_NEAR(scores.row_max[3 * kK + kK - 1], 0.5, 1e-6);
  EXPECT_NEAR(ha::sharp_row_share(scores), 2.0 / 60, 1e-9);
  const auto criteria = ha::seed_phase_criteria(scores, nullptr);
  ASSERT_GE(criteria.size(), 2u);
  EXPECT_EQ(criteria[0].key, "sharp_rows");
  EXPECT_FALSE(criteria[0].passed);
  EXPECT_NEAR(criteria[0].value, 2.0 / 60, 1e-9);
  EXPECT_EQ(criteria[1].key, "sharp_heads");
  EXPECT_TRUE(criteria[1].passed);
  EXPECT_NEAR(criteria[1].value, 0.2, 1e-9);
}

TEST(FlowSeed, TopAndBottomGroupsAreFractionsBelowAHundredHeads) {
  const auto seed = ha::top_bottom_counts(512);  // Llama-3.2-1B: 16 x 32
  EXPECT_EQ(seed.top, 10);
  EXPECT_EQ(seed.bottom, 50);
  EXPECT_FALSE(seed.fractions);
  const auto hundred = ha::top_bottom_counts(100);
  EXPECT_EQ(hundred.top, 10);
  EXPECT_FALSE(hundred.fractions);
  const auto small = ha::top_bottom_counts(16);
  EXPECT_EQ(small.top, 2);  // round(1.6)
  EXPECT_EQ(small.bottom, 8);
  EXPECT_TRUE(small.fractions);
  EXPECT_EQ(ha::top_bottom_counts(15).top, 2);  // round(1.5) away from zero
  EXPECT_EQ(ha::top_bottom_counts(12).top, 1);
  EXPECT_EQ(ha::top_bottom_counts(1).bottom, 1);
  // Twelve composites, 1 down to 0.1 then two zeros: top 1 -> 1, bottom 6 -> (0.3+0.2+0.1+0.1+0+0)/6.
  const std::vector<double> descending = {1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1, 0.1, 0, 0};
  const auto means = ha::composite_top_bottom(descending, ha::top_bottom_counts(12));
  EXPECT_NEAR(means.top_mean, 1.0, 1e-12);
  EXPECT_NEAR(means.bottom_mean, 0.7 / 6, 1e-12);
}

// The planted run of the literal criteria test (two hub heads among ten identity heads): literally the top 10
// are not twice the bottom 12; with the small-model groups (top 1, bottom 6) the gap is clear. The top head
// alone spans one type.
TEST(FlowSeed, SeedCriteriaInOrderWithSmallModelGroups) {
  std::vector<std::vector<float>> heads;
  for (int h = 0; h < 12; ++h) heads.push_back(column_matrix(h < 2 ? 0 : kK));
  const auto scores = ha::score_flow_run(join(heads).data(), 2, 6, kK);
  ha::FlowAverage average;
  average.std.assign(12 * kK * kK, 0.05f);
  const auto criteria = ha::seed_phase_criteria(scores, &average);
  std::vector<std::string> keys;
  std::vector<int> phases;
  for (const auto& c : criteria) keys.push_back(c.key), phases.push_back(c.phase);
  EXPECT_EQ(keys, (std::vector<std::string>{"sharp_rows", "sharp_heads", "mean_std", "max_hub", "top_composite", "top_bottom",
                                            "type_span"}));
  EXPECT_EQ(phases, (std::vector<int>{1, 1, 1, 1, 2, 2, 2}));
  EXPECT_FALSE(ha::flow_phase_criteria(scores, &average)[4].passed);  // the literal top-10 / bottom-50
  EXPECT_TRUE(criteria[5].passed);
  EXPECT_TRUE(std::isinf(criteria[5].value));  // bottom six are all 0
  EXPECT_FALSE(criteria[6].passed);
  EXPECT_EQ(criteria[6].value, 1.0);
}
