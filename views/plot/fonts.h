// The one font of every figure: DejaVu Sans (Debian's fonts-dejavu-core), loaded into ImGui for the
// screen and into Cairo (through FreeType) for export, so text has the same shapes and widths in both.
// HEADSCOPE_FONT overrides the path; assets/fonts/ (core/assets.h: shipped with the app) comes before
// the system's font folders.
#pragma once
#include <string>

namespace headscope::plot {

// Path of the figure font's TTF, or "" when none is found (the caller then falls back and says so).
std::string figure_font_path();
// Bold variant for titles where available; falls back to the regular face.
std::string figure_bold_font_path();

}  // namespace headscope::plot
