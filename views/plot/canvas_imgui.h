// The screen back end of the plotting layer: draws into the current ImGui window's draw list with the
// app's TTF font, turns ImageSources into textures through a TextureProvider (the app's OpenGL one, or a
// recording one in tests), and reports pointer state from ImGui's input for zoom, pan, click and hover.
#pragma once
#include <imgui.h>

#include <cstdint>
#include <vector>

#include "views/plot/canvas.h"

namespace headscope::plot {

// Owns GPU textures for ImageSources. texture() returns the texture for image.key, calling image.fill
// and uploading only when the key is new or its version changed. Textures must sample nearest.
class TextureProvider {
 public:
  virtual ~TextureProvider() = default;
  virtual ImTextureID texture(const ImageSource& image) = 0;
};

// A provider without a GPU (tests, headless frames): fills the pixels into memory, counts requests and
// uploads, and hands out distinct non-null ids.
class RecordingTextureProvider : public TextureProvider {
 public:
  ImTextureID texture(const ImageSource& image) override;
  int requests = 0;
  int uploads = 0;
  struct Slot {
    std::uint64_t key = 0, version = 0;
    int width = 0, height = 0;
    std::vector<std::uint32_t> pixels;
  };
  std::vector<Slot> slots;
};

class ImGuiCanvas : public Canvas {
 public:
  // `fonts`: the figure font (the TTF the export back end also uses) loaded at several pixel sizes; text
  // uses the size closest to the one asked for, so glyphs are rasterised, not stretched. Empty: the
  // current ImGui font.
  ImGuiCanvas(ImDrawList* draw_list, TextureProvider* textures, std::vector<ImFont*> fonts = {});

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
  bool pointer(const std::string& id, Rect area, PointerState* state) override;
  void tooltip(const std::string& text) override;

 private:
  ImDrawList* draw_list_;
  TextureProvider* textures_;
  ImFont* font_for(float size) const;
  std::vector<ImFont*> fonts_;
  std::vector<ImVec2> scratch_;
};

}  // namespace headscope::plot
