// NaN-skipping aggregates: stats, head grids across samples, and group-by (the calibration table).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/aggregate.h"

namespace ha = headscope::analysis;

TEST(Aggregate, NanStats) {
  const double nan = std::nan("");
  const auto population = ha::nan_stats({1, 2, nan, 3, 4});
  EXPECT_EQ(population.count, 4);
  EXPECT_NEAR(population.mean, 2.5, 1e-12);
  EXPECT_NEAR(population.std, std::sqrt(1.25), 1e-12);
  const auto sample = ha::nan_stats({1, 2, nan, 3, 4}, ha::StdKind::sample);
  EXPECT_NEAR(sample.std, std::sqrt(5.0 / 3), 1e-12);
  const auto empty = ha::nan_stats({nan, nan});
  EXPECT_EQ(empty.count, 0);
  EXPECT_TRUE(std::isnan(empty.mean));
  EXPECT_TRUE(std::isnan(ha::nan_stats({7.0}, ha::StdKind::sample).std));
  EXPECT_EQ(ha::nan_stats({7.0}).std, 0.0);
}

TEST(Aggregate, HeadGridAcrossSamples) {
  const float nan = std::nanf("");
  // [sample = 3, layer = 1, head = 2]
  const std::vector<float> values = {1, 10, 3, nan, 5, 30};
  std::vector<float> mean(2), std(2);
  std::vector<int> count(2);
  ha::head_grid_stats(values.data(), 3, 1, 2, mean.data(), std.data(), count.data());
  EXPECT_NEAR(mean[0], 3.0, 1e-6);
  EXPECT_NEAR(std[0], std::sqrt(8.0 / 3), 1e-6);
  EXPECT_EQ(count[0], 3);
  EXPECT_NEAR(mean[1], 20.0, 1e-6);
  EXPECT_EQ(count[1], 2);
}

TEST(Aggregate, GroupByLevel) {
  const std::vector<int> level = {2, 1, 2, 1, 3, 2};
  const std::vector<double> heartbeats = {3, 1, 5, 2, std::nan(""), 4};
  const auto table = ha::group_by_key(level, heartbeats);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[0].key, 1);
  EXPECT_NEAR(table[0].mean, 1.5, 1e-12);
  EXPECT_NEAR(table[0].std, std::sqrt(0.5), 1e-12);  // sample std by default for group-by
  EXPECT_EQ(table[0].count, 2);
  EXPECT_EQ(table[1].key, 2);
  EXPECT_NEAR(table[1].mean, 4.0, 1e-12);
  EXPECT_NEAR(table[1].std, 1.0, 1e-12);
  EXPECT_EQ(table[2].count, 0);
  EXPECT_EQ(table[2].rows, 1);
  EXPECT_TRUE(std::isnan(table[2].mean));
  EXPECT_THROW(ha::group_by_key({1}, {}), std::invalid_argument);
}
