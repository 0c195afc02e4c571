// Perceptual colormaps for heatmaps and colorbars: viridis and magma (sequential, from published
// 6th-degree polynomial fits of matplotlib's tables) and cool-warm (diverging, Moreland 2009, built by
// interpolating in his Msh colour space between published end points). Each is a 256-entry table built
// once at first use; lookups are table reads.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "views/plot/canvas.h"

namespace headscope::plot {

enum class ColormapId { viridis, magma, cool_warm };

class Colormap {
 public:
  static const Colormap& get(ColormapId id);
  static const Colormap* find(const std::string& name);  // nullptr if unknown
  static std::vector<std::string> names();

  ColormapId id() const { return id_; }
  const std::string& name() const { return name_; }
  bool diverging() const { return id_ == ColormapId::cool_warm; }
  // t in [0, 1] (clamped); NaN gives the "missing" colour (a neutral grey).
  Color color(double t) const;
  std::uint32_t rgba(double t) const;  // packed as pack_rgba
  // The value in [vmin, vmax] mapped through the table (NaN → missing colour).
  std::uint32_t rgba(double value, double vmin, double vmax) const;

  static constexpr int kSize = 256;
  static constexpr std::uint32_t kMissingRgba = 0xff8c8c8cu;  // grey, opaque

 private:
  Colormap(ColormapId id, std::string name);
  ColormapId id_;
  std::string name_;
  std::array<Color, kSize> table_{};
  std::array<std::uint32_t, kSize> packed_{};
};

}  // namespace headscope::plot
