// Axis ticks: "nice" steps (1, 2 or 5 × 10^k) over a numeric range with labels formatted to the step's
// precision, and integer steps for categorical axes (layers, heads, tokens) chosen so labels do not overlap.
#pragma once
#include <string>
#include <vector>

namespace headscope::plot {

struct Tick {
  double value = 0;
  std::string label;
};

// About `target_count` ticks inside [min, max], on a nice step, labelled with just enough decimals.
std::vector<Tick> nice_ticks(double min, double max, int target_count);
// The smallest step of 1, 2, 5 × 10^k that is at least `minimum_step`.
double nice_step_at_least(double minimum_step);
// A number as an axis or read-out label: up to 4 significant digits, no trailing zeros.
std::string format_number(double value);

}  // namespace headscope::plot
