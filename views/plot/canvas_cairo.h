// The export back end of the plotting layer: draws on a Cairo context (PDF, SVG or image surface) with
// the same TTF as the screen (through FreeType), sizing text so a figure's layout matches the screen's.
// Images are Cairo image surfaces painted with the nearest filter (crisp cells; PDF gets /Interpolate false).
#pragma once
#include <cairo.h>

#include "views/plot/canvas.h"

namespace headscope::plot {

class CairoCanvas : public Canvas {
 public:
  // Throws std::runtime_error when the figure font cannot be loaded.
  explicit CairoCanvas(cairo_t* cr);

  void line(Vec2 a, Vec2 b, Color color, float width) override;
  void polyline(const Vec2* points, int count, Color color, float width) override;
  void fill_rect(Rect rect, Color color) override;
  void stroke_rect(Rect rect, Color color, float width) override;
  void fill_circle(Vec2 center, float radius, Color color) override;
  void text(Vec2 anchor, const std::string& text, Color color, float size, TextAlign align, float angle) override;
  Vec2 measure_text(const std::string& text, float size) override;
  void image(const ImageSource& image, Rect rect, Vec2 uv_min, Vec2 uv_max) override;
  void push_clip(Rect rect) override;
  void pop_clip() override;
  bool is_export() const override { return true; }

 private:
  void set_font_size(float line_height);
  cairo_t* cr_;
};

}  // namespace headscope::plot
