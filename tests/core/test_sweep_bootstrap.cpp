// The sweep's across-sample bootstrap (core/analysis/sweep_bootstrap.h, METRICS.md "Seed conventions"):
// percentiles as numpy computes them, intervals that collapse onto the point estimate when every sample
// agrees, a flat control told from a moving target, seeded reproducibility, and no interval from one sample.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/analysis/gain.h"
#include "core/analysis/sweep_bootstrap.h"

namespace ha = headscope::analysis;

namespace {

const std::vector<double> kScales = {0.5, 0.75, 1.0, 1.25, 1.5};

// max attention of sample s, head h at scale c: base + gain[h]·ln(scale) + that sample's noise.
ha::SweepSampleMeans planted(std::size_t samples, const std::vector<double>& gains, double noise, std::uint64_t seed) {
  ha::SweepSampleMeans data;
  data.conditions = kScales.size();
  data.heads = gains.size();
  data.samples = samples;
  std::mt19937_64 generator(seed);
  std::normal_distribution<double> jitter(0, noise);
  for (std::size_t c = 0; c < data.conditions; ++c)
    for (std::size_t h = 0; h < data.heads; ++h)
      for (std::size_t s = 0; s < samples; ++s) {
        data.mean.push_back(0.4 + gains[h] * std::log(kScales[c]) + (noise > 0 ? jitter(generator) : 0.0));
        data.n.push_back(10);
      }
  return data;
}

}  // namespace

TEST(SweepBootstrap, PercentilesInterpolateLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], [50, 2.5, 97.5]) = 2.5, 1.075, 3.925
  EXPECT_NEAR(ha::percentile({4, 1, 3, 2}, 0.5), 2.5, 1e-12);
  EXPECT_NEAR(ha::percentile({4, 1, 3, 2}, 0.025), 1.075, 1e-12);
  EXPECT_NEAR(ha::percentile({4, 1, 3, 2, NAN}, 0.975), 3.925, 1e-12) << "NaN left out";
  EXPECT_TRUE(std::isnan(ha::percentile({NAN}, 0.5)));
}

TEST(SweepBootstrap, IdenticalSamplesGiveAPointInterval) {
  const auto data = planted(6, {0.2, 0.01}, 0, 1);
  const auto result = ha::bootstrap_sweep(kScales, data, {200, 7, 0.95});
  ASSERT_EQ(result.gain.size(), 2u);
  EXPECT_NEAR(result.gain[0].low, 0.2, 1e-12);
  EXPECT_NEAR(result.gain[0].high, 0.2, 1e-12);
  EXPECT_NEAR(result.ratio[0].low, 20, 1e-9);
  EXPECT_NEAR(result.ratio_versus_mean_control.high, 20, 1e-9);
  EXPECT_FALSE(result.control_flat[0]) << "a control moving by 0.01 on every sample is not flat";
  EXPECT_NEAR(result.condition_mean[0 * 2 + 0].low, 0.4 + 0.2 * std::log(0.5), 1e-12);
}

TEST(SweepBootstrap, AFlatControlIsToldFromAMovingTarget) {
  const auto data = planted(40, {0.2, 0.0, 0.0}, 0.05, 3);
  const auto result = ha::bootstrap_sweep(kScales, data, {1000, 11, 0.95});
  EXPECT_EQ(result.resamples, 1000);
  EXPECT_GT(result.gain[0].low, 0.1);
  EXPECT_LT(result.gain[0].high, 0.3);
  EXPECT_TRUE(result.control_flat[0]);
  EXPECT_TRUE(result.control_flat[1]);
  // The interval holds the gain of the pooled means (the point estimate the sweep reports).
  std::vector<double> pooled(kScales.size(), 0);
  for (std::size_t c = 0; c < kScales.size(); ++c) {
    for (std::size_t s = 0; s < 40; ++s) pooled[c] += data.at(data.mean, c, 0, s) / 40;
  }
  EXPECT_TRUE(result.gain[0].contains(ha::fit_gain(kScales, pooled).slope));
  // A ratio over a flat control straddles huge values of both signs: its interval is wide.
  EXPECT_GT(result.ratio[0].high - result.ratio[0].low, 10);
}

TEST(SweepBootstrap, SeededAndWeightedByTokens) {
  auto data = planted(12, {0.3, 0.1}, 0.05, 5);
  const auto a = ha::bootstrap_sweep(kScales, data, {300, 42, 0.95});
  const auto b = ha::bootstrap_sweep(kScales, data, {300, 42, 0.95});
  const auto c = ha::bootstrap_sweep(kScales, data, {300, 43, 0.95});
  EXPECT_EQ(a.gain[0].low, b.gain[0].low);
  EXPECT_EQ(a.ratio[0].high, b.ratio[0].high);
  EXPECT_NE(a.gain[0].low, c.gain[0].low);
  // A sample with no tokens counted weighs nothing, whatever its mean says.
  for (std::size_t cond = 0; cond < data.conditions; ++cond)
    for (std::size_t h = 0; h < data.heads; ++h) {
      data.mean[(cond * data.heads + h) * data.samples + 0] = 1e6;
      data.n[(cond * data.heads + h) * data.samples + 0] = 0;
    }
  const auto weighted = ha::bootstrap_sweep(kScales, data, {300, 42, 0.95});
  EXPECT_LT(weighted.condition_mean[0].high, 1.0);
}

TEST(SweepBootstrap, OneSampleGivesNoIntervalAndSaysSo) {
  const auto result = ha::bootstrap_sweep(kScales, planted(1, {0.2, 0.1}, 0, 1));
  EXPECT_TRUE(std::isnan(result.gain[0].low));
  EXPECT_TRUE(std::isnan(result.ratio[0].high));
  EXPECT_FALSE(result.control_flat[0]);
  EXPECT_EQ(result.resamples, 0);
  EXPECT_FALSE(result.note.empty());
}
