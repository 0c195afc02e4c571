// Canvas: the small drawing interface the plotting layer draws through, so that one description of a
// figure reaches two destinations — ImGui's draw list on screen (canvas_imgui.h) and Cairo for PDF, SVG
// and PNG export (canvas_cairo.h). Coordinates are in logical pixels, y down, origin top-left of the
// destination. Large matrices arrive as one RGBA image (ImageSource), never as one rectangle per cell.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace headscope::plot {

struct Vec2 {
  float x = 0, y = 0;
};

struct Rect {
  Vec2 min, max;
  float width() const { return max.x - min.x; }
  float height() const { return max.y - min.y; }
  bool contains(Vec2 p) const { return p.x >= min.x && p.x < max.x && p.y >= min.y && p.y < max.y; }
};

// Straight (not premultiplied) RGBA, each channel in [0, 1].
struct Color {
  float r = 0, g = 0, b = 0, a = 1;
  Color with_alpha(float alpha) const { return {r, g, b, alpha}; }
};

// Packs a colour into the bytes R, G, B, A in memory order (a little-endian 0xAABBGGRR word), the
// pixel layout of ImageSource and of ImGui's IM_COL32.
std::uint32_t pack_rgba(Color c);

// An image drawn as a single texture. `fill` writes width × height pixels ([row, column], row 0 at the
// top, R,G,B,A bytes) and runs only when the destination has no copy of this `key` at this `version`.
struct ImageSource {
  std::uint64_t key = 0;      // the slot: stable for one plot item across frames
  std::uint64_t version = 0;  // changes whenever the pixels would change
  int width = 0;
  int height = 0;
  std::function<void(std::uint32_t* rgba)> fill;
};

// Where text sits relative to the anchor point: 0 = left/top, 0.5 = centre, 1 = right/bottom.
struct TextAlign {
  float x = 0;
  float y = 0;
};

// Pointer state over an interactive area (screen only; export canvases report none).
struct PointerState {
  bool hovered = false;
  Vec2 mouse;                  // logical pixels
  bool clicked = false;        // left button released without dragging
  bool double_clicked = false;
  bool dragging = false;
  Vec2 drag_delta;             // movement this frame while dragging
  float wheel = 0;             // wheel steps this frame, positive = away from the user
};

class Canvas {
 public:
  virtual ~Canvas() = default;

  virtual void line(Vec2 a, Vec2 b, Color color, float width) = 0;
  // Connected segments through `count` points.
  virtual void polyline(const Vec2* points, int count, Color color, float width) = 0;
  virtual void fill_rect(Rect rect, Color color) = 0;
  virtual void stroke_rect(Rect rect, Color color, float width) = 0;
  virtual void fill_circle(Vec2 center, float radius, Color color) = 0;
  // `size` is the line height in logical pixels; `angle` is counter-clockwise in radians about the anchor.
  virtual void text(Vec2 anchor, const std::string& text, Color color, float size, TextAlign align = {},
                    float angle = 0) = 0;
  virtual Vec2 measure_text(const std::string& text, float size) = 0;
  // The image stretched over `rect` with nearest-neighbour sampling (cells stay crisp at any zoom);
  // `uv_min`/`uv_max` select the visible part of the image (for a zoomed heatmap).
  virtual void image(const ImageSource& image, Rect rect, Vec2 uv_min = {0, 0}, Vec2 uv_max = {1, 1}) = 0;
  virtual void push_clip(Rect rect) = 0;
  virtual void pop_clip() = 0;

  // Interaction, on screen only: claims `area` for the pointer under `id` and reports its state.
  // Returns false on destinations without a pointer (export).
  virtual bool pointer(const std::string& id, Rect area, PointerState* state) {
    (void)id, (void)area, (void)state;
    return false;
  }
  // A read-out next to the pointer (screen only).
  virtual void tooltip(const std::string& text) { (void)text; }
  // True when drawing for export (no pointer, no hover).
  virtual bool is_export() const { return false; }
};

}  // namespace headscope::plot
