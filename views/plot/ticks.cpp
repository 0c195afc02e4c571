// Nice tick steps and number formatting for the plotting layer's axes and read-outs.
#include "views/plot/ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace headscope::plot {

double nice_step_at_least(double minimum_step) {
  if (!(minimum_step > 0) || !std::isfinite(minimum_step)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(minimum_step)));
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (factor * magnitude >= minimum_step * (1 - 1e-9)) return factor * magnitude;
  return 10 * magnitude;
}

static std::string format_with_decimals(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", std::max(decimals, 0), value);
  std::string text = buffer;
  if (text == "-0" || text.rfind("-0.", 0) == 0) {
    bool all_zero = text.find_first_not_of("-0.") == std::string::npos;
    if (all_zero) text.erase(0, 1);
  }
  return text;
}

std::vector<Tick> nice_ticks(double min, double max, int target_count) {
  std::vector<Tick> ticks;
  if (!std::isfinite(min) || !std::isfinite(max) || max <= min) return ticks;
  const double step = nice_step_at_least((max - min) / std::max(target_count, 1));
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  const double first = std::ceil(min / step - 1e-9) * step;
  for (int i = 0; i < 1000; ++i) {
    const double value = first + i * step;
    if (value > max + step * 1e-9) break;
    const bool scientific = std::abs(value) >= 1e6 || (step < 1e-4);
    if (scientific) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2g", value);
      ticks.push_back({value, buffer});
    } else {
      ticks.push_back({value, format_with_decimals(std::abs(value) < step * 1e-6 ? 0.0 : value, decimals)});
    }
  }
  return ticks;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  if (value != 0 && (std::abs(value) >= 1e5 || std::abs(value) < 1e-3)) {
    std::snprintf(buffer, sizeof buffer, "%.3e", value);
    return buffer;
  }
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

}  // namespace headscope::plot
