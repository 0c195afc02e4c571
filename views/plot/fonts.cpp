// Locates the figure font (see fonts.h).
#include "views/plot/fonts.h"

#include <cstdlib>
#include <filesystem>

#include "core/assets.h"

namespace headscope::plot {

static std::string first_existing(const char* env, const char* file_name) {
  if (env) {
    if (const char* value = std::getenv(env); value && std::filesystem::exists(value)) return value;
  }
  if (std::string shipped = find_asset(std::string("fonts/") + file_name); !shipped.empty()) return shipped;
  const std::filesystem::path candidates[] = {
      std::filesystem::path("/usr/share/fonts/truetype/dejavu") / file_name,
      std::filesystem::path("/usr/share/fonts/TTF") / file_name,
      std::filesystem::path("/usr/share/fonts/dejavu") / file_name,
  };
  for (const auto& path : candidates)
    if (std::filesystem::exists(path)) return path.string();
  return "";
}

std::string figure_font_path() { return first_existing("HEADSCOPE_FONT", "DejaVuSans.ttf"); }

std::string figure_bold_font_path() {
  std::string bold = first_existing(nullptr, "DejaVuSans-Bold.ttf");
  return bold.empty() ? figure_font_path() : bold;
}

}  // namespace headscope::plot
