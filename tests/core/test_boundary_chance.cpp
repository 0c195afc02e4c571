// The chance baseline of boundary detection (core/analysis/boundary_chance.h): a hand-made case where
// every chance draw is forced, one where the observed peaks beat chance, and the seed making it repeat.
#include <gtest/gtest.h>

#include <cmath>

#include "core/analysis/boundary_chance.h"

using namespace headscope::analysis;

TEST(BoundaryChance, EligiblePositionsEqualToThePeakCountForceEveryDraw) {
  // Two eligible positions, two peaks: every draw places them on {10, 20}, exactly the observed peaks.
  const std::vector<BoundaryCase> cases{{{10, 20}, {10, 30}, {10, 20}}};
  const auto baseline = chance_baseline(cases, 1, {50, 7});
  EXPECT_DOUBLE_EQ(baseline.observed.precision, 0.5);
  EXPECT_DOUBLE_EQ(baseline.observed.recall, 0.5);
  EXPECT_DOUBLE_EQ(baseline.chance_mean.f1, 0.5);
  EXPECT_DOUBLE_EQ(baseline.at_least_observed.f1, 1.0);
  EXPECT_EQ(baseline.draws, 50);
}

TEST(BoundaryChance, PeaksOnTheBoundariesBeatChanceAndTheSeedRepeats) {
  // 100 eligible positions, boundaries every 20, peaks exactly on them; tolerance 0.
  BoundaryCase c;
  for (int t = 0; t < 100; ++t) c.eligible.push_back(t);
  for (int t = 10; t < 100; t += 20) c.predicted.push_back(t), c.recorded.push_back(t);
  const std::vector<BoundaryCase> cases{c, c};
  const ChanceOptions options{200, 42};
  const auto baseline = chance_baseline(cases, 0, options);
  EXPECT_DOUBLE_EQ(baseline.observed.f1, 1.0);
  // Chance: each of 5 random positions hits one of 5 boundaries with probability 5/100.
  EXPECT_NEAR(baseline.chance_mean.precision, 0.05, 0.02);
  EXPECT_NEAR(baseline.chance_mean.recall, 0.05, 0.02);
  EXPECT_DOUBLE_EQ(baseline.at_least_observed.f1, 0.0);
  const auto again = chance_baseline(cases, 0, options);
  EXPECT_EQ(again.chance_mean.f1, baseline.chance_mean.f1);  // seeded: the same draws
  const auto other = chance_baseline(cases, 0, {200, 43});
  EXPECT_NE(other.chance_mean.f1, baseline.chance_mean.f1);
}

TEST(BoundaryChance, NothingPredictedOrRecordedIsUndefinedNotZero) {
  const std::vector<BoundaryCase> cases{{{}, {5}, {1, 2, 3}}};
  const auto baseline = chance_baseline(cases, 1, {20, 1});
  EXPECT_TRUE(std::isnan(baseline.observed.precision));
  EXPECT_TRUE(std::isnan(baseline.chance_mean.precision));
  EXPECT_TRUE(std::isnan(baseline.at_least_observed.f1));
  EXPECT_DOUBLE_EQ(baseline.observed.recall, 0.0);
}

TEST(BoundaryChance, FinitePositionsAreTheEligibleOnes) {
  EXPECT_EQ(finite_positions({NAN, 0.1, 0.2, NAN}), (std::vector<int>{1, 2}));
}
