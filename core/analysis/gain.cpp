// OLS gain fit, gain ratio verdicts and trend classification (see gain.h and METRICS.md). The slope's
// standard error is computed from the residual sum of squares, never from 1 - r^2.
#include "core/analysis/gain.h"

#include <cmath>
#include <limits>

namespace headscope::analysis {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

OlsFit fit_ols(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw GainError("OLS: x has " + std::to_string(x.size()) + " values but y has " + std::to_string(y.size()));
  const int n = static_cast<int>(x.size());
  if (n < 2) throw GainError("OLS: needs at least 2 points, got " + std::to_string(n));
  double x_mean = 0, y_mean = 0;
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      throw GainError("OLS: point " + std::to_string(i) + " is not finite");
    x_mean += x[i] / n;
    y_mean += y[i] / n;
  }
  double sxx = 0, sxy = 0, syy = 0;
  for (int i = 0; i < n; ++i) {
    sxx += (x[i] - x_mean) * (x[i] - x_mean);
    sxy += (x[i] - x_mean) * (y[i] - y_mean);
    syy += (y[i] - y_mean) * (y[i] - y_mean);
  }
  if (sxx == 0) throw GainError("OLS: every x is the same (Sxx = 0), the slope is undefined");
  OlsFit fit;
  fit.n = n;
  fit.slope = syy == 0 ? 0.0 : sxy / sxx;
  fit.intercept = y_mean - fit.slope * x_mean;
  for (int i = 0; i < n; ++i) {
    const double residual = y[i] - fit.intercept - fit.slope * x[i];
    fit.sse += residual * residual;
  }
  fit.slope_se = n < 3 ? kNaN : std::sqrt(fit.sse / (n - 2) / sxx);
  fit.r_squared = syy == 0 ? kNaN : 1.0 - fit.sse / syy;
  return fit;
}

OlsFit fit_gain(const std::vector<double>& scales, const std::vector<double>& y) {
  std::vector<double> u;
  u.reserve(scales.size());
  for (double scale : scales) {
    if (!(scale > 0) || !std::isfinite(scale))
      throw GainError("gain: scale " + std::to_string(scale) + " rejected (ln(scale) needs scale > 0)");
    u.push_back(std::log(scale));
  }
  return fit_ols(u, y);
}

const char* gain_verdict_words(GainVerdict verdict) {
  switch (verdict) {
    case GainVerdict::strong_evidence: return "strong evidence";
    case GainVerdict::higher_sensitivity: return "higher sensitivity";
    case GainVerdict::no_clear_difference: return "no clear difference";
    case GainVerdict::undefined: break;
  }
  return "undefined (control gain is 0)";
}

GainComparison compare_gains(double target_gain, double control_gain) {
  GainComparison comparison;
  comparison.target_gain = target_gain;
  comparison.control_gain = control_gain;
  comparison.ratio = control_gain == 0 ? kNaN : target_gain / control_gain;
  if (!std::isfinite(comparison.ratio)) comparison.verdict = GainVerdict::undefined;
  else if (comparison.ratio >= kGainStrongEvidence) comparison.verdict = GainVerdict::strong_evidence;
  else if (comparison.ratio >= kGainHigherSensitivity) comparison.verdict = GainVerdict::higher_sensitivity;
  else comparison.verdict = GainVerdict::no_clear_difference;
  return comparison;
}

const char* trend_name(Trend trend) {
  switch (trend) {
    case Trend::increasing: return "increasing";
    case Trend::decreasing: return "decreasing";
    case Trend::not_monotonic: break;
  }
  return "not monotonic";
}

Trend classify_trend(const std::vector<double>& y, double tolerance) {
  if (y.size() < 2) return Trend::not_monotonic;
  bool rising = true, falling = true;
  for (std::size_t i = 1; i < y.size(); ++i) {
    const double step = y[i] - y[i - 1];
    rising = rising && step > tolerance;    // false for NaN
    falling = falling && step < -tolerance;
  }
  return rising ? Trend::increasing : falling ? Trend::decreasing : Trend::not_monotonic;
}

}  // namespace headscope::analysis
