// OLS gain fit against METRICS.md (x = [1, 2, 4, 8], y = 2 + 3 ln x) and each stated edge case, gain-ratio
// verdicts and the trend classifier.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/gain.h"

namespace ha = headscope::analysis;

TEST(Gain, MetricsExample) {
  const std::vector<double> scales = {1, 2, 4, 8};
  std::vector<double> y;
  for (double x : scales) y.push_back(2 + 3 * std::log(x));
  const auto fit = ha::fit_gain(scales, y);
  EXPECT_NEAR(fit.slope, 3.0, 1e-6);
  EXPECT_NEAR(fit.intercept, 2.0, 1e-6);
  EXPECT_NEAR(fit.slope_se, 0.0, 1e-6);
  EXPECT_NEAR(fit.r_squared, 1.0, 1e-6);
  EXPECT_EQ(fit.n, 4);
}

TEST(Gain, StandardErrorFromResiduals) {
  // A noisy series, checked against the METRICS.md formulas written out independently here.
  const std::vector<double> x = {0, 1, 2, 3}, y = {1, 0, 1, 4};
  const auto fit = ha::fit_ols(x, y);
  const double x_mean = 1.5, y_mean = 1.5, sxx = 5;
  double sxy = 0, syy = 0;
  for (int i = 0; i < 4; ++i) sxy += (x[i] - x_mean) * (y[i] - y_mean), syy += (y[i] - y_mean) * (y[i] - y_mean);
  const double b = sxy / sxx, a = y_mean - b * x_mean;
  double sse = 0;
  for (int i = 0; i < 4; ++i) sse += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
  EXPECT_NEAR(fit.slope, b, 1e-12);
  EXPECT_NEAR(fit.slope_se, std::sqrt(sse / 2 / sxx), 1e-12);
  EXPECT_NEAR(fit.r_squared, 1 - sse / syy, 1e-12);
}

TEST(Gain, EdgeCases) {
  const auto two = ha::fit_ols({1, 2}, {3, 5});  // n < 3: SE NaN
  EXPECT_NEAR(two.slope, 2.0, 1e-12);
  EXPECT_TRUE(std::isnan(two.slope_se));
  EXPECT_THROW(ha::fit_ols({2, 2, 2}, {1, 2, 3}), ha::GainError);  // Sxx = 0
  const auto flat = ha::fit_ols({1, 2, 3}, {4, 4, 4});            // Syy = 0
  EXPECT_EQ(flat.slope, 0.0);
  EXPECT_NEAR(flat.intercept, 4.0, 1e-12);
  EXPECT_TRUE(std::isnan(flat.r_squared));
  EXPECT_EQ(flat.slope_se, 0.0);
  EXPECT_THROW(ha::fit_gain({0.5, 0.0, 1.0}, {1, 2, 3}), ha::GainError);   // scale <= 0
  EXPECT_THROW(ha::fit_gain({0.5, -1.0, 1.0}, {1, 2, 3}), ha::GainError);
  EXPECT_THROW(ha::fit_ols({1, 2, 3}, {1, 2}), ha::GainError);
  EXPECT_THROW(ha::fit_ols({1}, {1}), ha::GainError);
}

TEST(Gain, RatioVerdicts) {
  EXPECT_EQ(ha::compare_gains(3.0, 1.0).verdict, ha::GainVerdict::strong_evidence);
  EXPECT_EQ(ha::compare_gains(2.0, 1.0).verdict, ha::GainVerdict::strong_evidence);
  EXPECT_EQ(ha::compare_gains(1.5, 1.0).verdict, ha::GainVerdict::higher_sensitivity);
  EXPECT_EQ(ha::compare_gains(1.4, 1.0).verdict, ha::GainVerdict::no_clear_difference);
  const auto undefined = ha::compare_gains(1.0, 0.0);
  EXPECT_TRUE(std::isnan(undefined.ratio));
  EXPECT_EQ(undefined.verdict, ha::GainVerdict::undefined);
  EXPECT_STREQ(ha::gain_verdict_words(ha::GainVerdict::higher_sensitivity), "higher sensitivity");
  EXPECT_STREQ(ha::gain_verdict_words(ha::GainVerdict::strong_evidence), "strong evidence");
  EXPECT_NEAR(ha::compare_gains(0.3, 0.2).ratio, 1.5, 1e-12);
}

TEST(Gain, Trends) {
  EXPECT_EQ(ha::classify_trend({0.1, 0.2, 0.4, 0.5}), ha::Trend::increasing);
  EXPECT_EQ(ha::classify_trend({2.0, 1.5, 1.2, 1.1}), ha::Trend::decreasing);
  EXPECT_EQ(ha::classify_trend({1.0, 1.2, 1.1}), ha::Trend::not_monotonic);
  EXPECT_EQ(ha::classify_trend({1.0, 1.0, 1.1}), ha::Trend::not_monotonic);
  EXPECT_EQ(ha::classify_trend({1.0, 1.05, 1.2}, 0.1), ha::Trend::not_monotonic);
  EXPECT_EQ(ha::classify_trend({1.0}), ha::Trend::not_monotonic);
  EXPECT_EQ(ha::classify_trend({1.0, std::nan(""), 2.0}), ha::Trend::not_monotonic);
  EXPECT_STREQ(ha::trend_name(ha::Trend::not_monotonic), "not monotonic");
}
