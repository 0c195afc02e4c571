// Peak picking on windowed-JSD traces (the rule stated in jsd_peaks.h) and boundary precision/recall
// with greedy one-to-one matching within +-k.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/jsd_peaks.h"

namespace ha = headscope::analysis;

TEST(JsdPeaks, LocalMaximaAboveThreshold) {
  const double nan = std::nan("");
  // mean + 1 std of the finite values; the peaks at 3 and 9 clear it, the bump at 6 does not.
  const std::vector<double> trace = {nan, 0.1, 0.2, 0.9, 0.2, 0.1, 0.3, 0.1, 0.2, 0.8, 0.1, nan};
  EXPECT_EQ(ha::pick_jsd_peaks(trace), (std::vector<int>{3, 9}));
  ha::PeakOptions low;
  low.z = -10;  // every local maximum
  EXPECT_EQ(ha::pick_jsd_peaks(trace, low), (std::vector<int>{3, 6, 9}));
  low.min_separation = 4;  // 6 is within 4 of the higher 3
  EXPECT_EQ(ha::pick_jsd_peaks(trace, low), (std::vector<int>{3, 9}));
}

TEST(JsdPeaks, PlateauAndEdges) {
  ha::PeakOptions all;
  all.z = -10;
  all.min_separation = 1;
  EXPECT_EQ(ha::pick_jsd_peaks({0.5, 0.5, 0.1, 0.7}, all), (std::vector<int>{0, 3}));
  EXPECT_TRUE(ha::pick_jsd_peaks({}).empty());
  EXPECT_TRUE(ha::pick_jsd_peaks({std::nan("")}).empty());
}

TEST(Boundaries, GreedyOneToOne) {
  // 10 matches 11 (distance 1) before 12; 20 matches 19; 30 has nothing within 2; 40 unmatched.
  const auto score = ha::score_boundaries({10, 12, 20, 30}, {11, 19, 40}, 2);
  EXPECT_EQ(score.true_positives, 2);
  EXPECT_NEAR(score.precision, 0.5, 1e-12);
  EXPECT_NEAR(score.recall, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(score.f1, 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3), 1e-12);
  ASSERT_EQ(score.matches.size(), 2u);
  // One recorded boundary cannot be claimed twice.
  const auto crowded = ha::score_boundaries({5, 6, 7}, {6}, 3);
  EXPECT_EQ(crowded.true_positives, 1);
  EXPECT_EQ(crowded.matches[0].predicted, 6);
  EXPECT_NEAR(crowded.precision, 1.0 / 3, 1e-12);
  EXPECT_NEAR(crowded.recall, 1.0, 1e-12);
}

TEST(Boundaries, EmptySides) {
  const auto none = ha::score_boundaries({}, {3}, 1);
  EXPECT_TRUE(std::isnan(none.precision));
  EXPECT_EQ(none.recall, 0.0);
  EXPECT_TRUE(std::isnan(none.f1));
  const auto misses = ha::score_boundaries({1}, {9}, 1);
  EXPECT_EQ(misses.f1, 0.0);
}
