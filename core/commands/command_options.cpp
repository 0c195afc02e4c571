// Rendering option values to command-line text (see command_options.h).
#include "core/commands/command_options.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/util/lists.h"

namespace headscope::commands {

std::string OptionSpec::range_error(double value, bool with_flag) const {
  if (std::isfinite(value) && value >= min && value <= max) return "";
  std::string text = (with_flag ? std::string(flag) + ": " : std::string()) + render_value(value) + " is ";
  if (!std::isfinite(value)) return text + "not a finite number";
  return text + "outside " + render_value(min) + ".." + render_value(max);
}

std::string render_value(const std::string& value) { return value; }
std::string render_value(int value) { return std::to_string(value); }
std::string render_value(std::int64_t value) { return std::to_string(value); }
std::string render_value(std::uint64_t value) { return std::to_string(value); }

std::string render_value(double value) {
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {  // 0.5, not 0.50000000000000000
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string render_value(store::HeadRef head) { return format_head_list({head}); }
std::string render_value(const std::vector<store::HeadRef>& heads) { return format_head_list(heads); }

std::string render_value(const std::vector<double>& numbers) {
  std::string text;
  for (double number : numbers) text += (text.empty() ? "" : ",") + render_value(number);
  return text;
}

}  // namespace headscope::commands
