// Intervention gain (METRICS.md, "Intervention gain"): ordinary least squares of y (mean max-attention
// over tokens and samples) on u = ln(scale), with the slope's standard error from the residuals, the
// target/control gain ratio with the earlier pipeline's verdict words, and a monotonic-trend classifier
// for the per-scale series of a sweep.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace headscope::analysis {

// Raised for inputs OLS cannot fit: sizes differ, fewer than 2 points, Sxx = 0, a scale <= 0, non-finite.
class GainError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct OlsFit {
  double slope = 0;      // b = Sxy / Sxx (0 when Syy = 0)
  double intercept = 0;  // a = mean(y) - b mean(x)
  double slope_se = 0;   // sqrt(SSE / (n - 2) / Sxx); NaN when n < 3
  double r_squared = 0;  // 1 - SSE / Syy; NaN when Syy = 0
  double sse = 0;        // sum of squared residuals
  int n = 0;
};

// y on x. Throws GainError when sizes differ, n < 2 or Sxx = 0.
OlsFit fit_ols(const std::vector<double>& x, const std::vector<double>& y);
// y on u = ln(scale). Throws GainError for a scale <= 0 (or not finite), and as fit_ols.
OlsFit fit_gain(const std::vector<double>& scales, const std::vector<double>& y);

enum class GainVerdict {
  undefined,            // the ratio is NaN or infinite (control gain 0)
  no_clear_difference,  // ratio < 1.5
  higher_sensitivity,   // 1.5 <= ratio < 2.0
  strong_evidence,      // ratio >= 2.0
};
inline constexpr double kGainHigherSensitivity = 1.5;
inline constexpr double kGainStrongEvidence = 2.0;
const char* gain_verdict_words(GainVerdict verdict);  // "higher sensitivity", "strong evidence", ...

struct GainComparison {
  double target_gain = 0;
  double control_gain = 0;
  double ratio = 0;  // target / control; NaN when the control gain is 0
  GainVerdict verdict = GainVerdict::undefined;
};
GainComparison compare_gains(double target_gain, double control_gain);

enum class Trend { increasing, decreasing, not_monotonic };
const char* trend_name(Trend trend);  // "increasing", "decreasing", "not monotonic"
// y ordered by increasing scale. Increasing: every step rises by more than `tolerance`; decreasing: every
// step falls by more than it; anything else (flat steps, reversals, NaN, fewer than 2 points) is not
// monotonic.
Trend classify_trend(const std::vector<double>& y, double tolerance = 0.0);

}  // namespace headscope::analysis
