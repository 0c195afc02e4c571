// CairoCanvas (see canvas_cairo.h). Text size convention: `size` is the line height from descender to
// ascender, as ImGui's AddFontFromFileTTF(size_pixels) uses it, so the Cairo em size is
// size × units_per_em / (ascender − descender) of the face, and the baseline sits ascender/(asc − desc)
// × size below the top of the line.
#include "views/plot/canvas_cairo.h"

#include <cairo-ft.h>
#include <ft2build.h>
#include FT_FREETYPE_H

#include <cmath>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "views/plot/fonts.h"

namespace headscope::plot {

namespace {

// The figure font, loaded once for the process and never released (Cairo may cache it).
struct FigureFont {
  cairo_font_face_t* face = nullptr;
  double em_per_line = 1;      // units_per_em / (ascender - descender)
  double ascent_per_line = 0.8;
};

const FigureFont& figure_font() {
  static FigureFont font;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = figure_font_path();
    FT_Library library = nullptr;
    FT_Face face = nullptr;
    if (path.empty() || FT_Init_FreeType(&library) != 0 || FT_New_Face(library, path.c_str(), 0, &face) != 0) {
      // Fall back to fontconfig's idea of DejaVu Sans; metrics are then approximate.
      font.face = cairo_toy_font_face_create("DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      font.em_per_line = 1 / 1.164;
      font.ascent_per_line = 0.797;
      return;
    }
    const double line_units = static_cast<double>(face->ascender) - static_cast<double>(face->descender);
    font.em_per_line = face->units_per_EM / line_units;
    font.ascent_per_line = face->ascender / line_units;
    font.face = cairo_ft_font_face_create_for_ft_face(face, 0);
  });
  return font;
}

void set_color(cairo_t* cr, Color c) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a); }

}  // namespace

CairoCanvas::CairoCanvas(cairo_t* cr) : cr_(cr) {
  const FigureFont& font = figure_font();
  if (!font.face) throw std::runtime_error("figure export: no font could be loaded");
  cairo_set_font_face(cr_, font.face);
  cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr_, CAIRO_LINE_CAP_BUTT);
}

void CairoCanvas::set_font_size(float line_height) { cairo_set_font_size(cr_, line_height * figure_font().em_per_line); }

void CairoCanvas::line(Vec2 a, Vec2 b, Color color, float width) {
  cairo_move_to(cr_, a.x, a.y);
  cairo_line_to(cr_, b.x, b.y);
  cairo_set_line_width(cr_, width);
  set_color(cr_, color);
  cairo_stroke(cr_);
}

void CairoCanvas::polyline(const Vec2* points, int count, Color color, float width) {
  if (count < 2) return;
  cairo_move_to(cr_, points[0].x, points[0].y);
  for (int i = 1; i < count; ++i) cairo_line_to(cr_, points[i].x, points[i].y);
  cairo_set_line_width(cr_, width);
  set_color(cr_, color);
  cairo_stroke(cr_);
}

void CairoCanvas::fill_rect(Rect rect, Color color) {
  cairo_rectangle(cr_, rect.min.x, rect.min.y, rect.width(), rect.height());
  set_color(cr_, color);
  cairo_fill(cr_);
}

void CairoCanvas::stroke_rect(Rect rect, Color color, float width) {
  cairo_rectangle(cr_, rect.min.x, rect.min.y, rect.width(), rect.height());
  cairo_set_line_width(cr_, width);
  set_color(cr_, color);
  cairo_stroke(cr_);
}

void CairoCanvas::fill_circle(Vec2 center, float radius, Color color) {
  cairo_new_sub_path(cr_);
  cairo_arc(cr_, center.x, center.y, radius, 0, 2 * M_PI);
  set_color(cr_, color);
  cairo_fill(cr_);
}

void CairoCanvas::text(Vec2 anchor, const std::string& text, Color color, float size, TextAlign align, float angle) {
  if (text.empty()) return;
  set_font_size(size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, text.c_str(), &extents);
  cairo_save(cr_);
  cairo_translate(cr_, anchor.x, anchor.y);
  if (angle != 0) cairo_rotate(cr_, -angle);  // counter-clockwise on a y-down page
  const double top = -size * align.y;
  cairo_move_to(cr_, -extents.x_advance * align.x, top + size * figure_font().ascent_per_line);
  set_color(cr_, color);
  cairo_show_text(cr_, text.c_str());
  cairo_new_path(cr_);
  cairo_restore(cr_);
}

Vec2 CairoCanvas::measure_text(const std::string& text, float size) {
  set_font_size(size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, text.c_str(), &extents);
  return {static_cast<float>(extents.x_advance), size};
}

void CairoCanvas::image(const ImageSource& image, Rect rect, Vec2 uv_min, Vec2 uv_max) {
  if (image.width <= 0 || image.height <= 0 || !image.fill || rect.width() <= 0 || rect.height() <= 0) return;
  std::vector<std::uint32_t> rgba(std::size_t(image.width) * std::size_t(image.height), 0);
  image.fill(rgba.data());
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, image.width, image.height);
  cairo_surface_flush(surface);
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int row = 0; row < image.height; ++row) {
    auto* out = reinterpret_cast<std::uint32_t*>(data + std::size_t(row) * stride);
    for (int col = 0; col < image.width; ++col) {
      const std::uint32_t p = rgba[std::size_t(row) * image.width + col];
      const std::uint32_t r = p & 0xff, g = (p >> 8) & 0xff, b = (p >> 16) & 0xff, a = p >> 24;
      // Cairo wants premultiplied native-endian 0xAARRGGBB.
      out[col] = (a << 24) | ((r * a / 255) << 16) | ((g * a / 255) << 8) | (b * a / 255);
    }
  }
  cairo_surface_mark_dirty(surface);
  cairo_pattern_t* pattern = cairo_pattern_create_for_surface(surface);
  cairo_pattern_set_filter(pattern, CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD);
  // Pattern space = image pixels; map the rect onto [uv_min, uv_max] of the image.
  const double xx = (uv_max.x - uv_min.x) * image.width / rect.width();
  const double yy = (uv_max.y - uv_min.y) * image.height / rect.height();
  cairo_matrix_t matrix;
  cairo_matrix_init(&matrix, xx, 0, 0, yy, uv_min.x * image.width - rect.min.x * xx,
                    uv_min.y * image.height - rect.min.y * yy);
  cairo_pattern_set_matrix(pattern, &matrix);
  cairo_save(cr_);
  cairo_rectangle(cr_, rect.min.x, rect.min.y, rect.width(), rect.height());
  cairo_set_source(cr_, pattern);
  cairo_fill(cr_);
  cairo_restore(cr_);
  cairo_pattern_destroy(pattern);
  cairo_surface_destroy(surface);
}

void CairoCanvas::push_clip(Rect rect) {
  cairo_save(cr_);
  cairo_rectangle(cr_, rect.min.x, rect.min.y, rect.width(), rect.height());
  cairo_clip(cr_);
}

void CairoCanvas::pop_clip() { cairo_restore(cr_); }

}  // namespace headscope::plot
