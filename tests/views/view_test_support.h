// Helpers for the views' tests: a small synthetic store written once per test binary, a headless ImGui
// context (font atlas built from the figure font, no GL) in which views draw real frames, one frame of a
// view, and a canvas that records the text a view draws.
#pragma once
#include <imgui.h>

#include <filesystem>
#include <string>

#include "app/demo_store/demo_store.h"
#include "test_support.h"
#include "views/plot/canvas_imgui.h"
#include "views/plot/fonts.h"
#include "views/view_registry.h"

namespace headscope::test {

// 6 layers × 4 heads, 3 samples of about 80 tokens, heads L0H0 and L2H1 pinned; written once per binary.
inline std::string small_demo_store() {
  static const std::string path = [] {
    // One folder per test binary: ctest -j runs binaries side by side, and they must not write one file.
    const auto binary = std::filesystem::read_symlink("/proc/self/exe").filename().string();
    const auto dir = std::filesystem::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / ("views-demo-" + binary);
    std::filesystem::create_directories(dir);
    const auto file = (dir / "demo.h5").string();
    app::DemoStoreOptions options;
    options.layer_count = 6;
    options.head_count = 4;
    options.sample_count = 3;
    options.token_count = 80;
    options.pinned = {{0, 0}, {2, 1}};
    app::write_demo_store(file, options);
    return file;
  }();
  return path;
}

// An ImGui context that can run NewFrame/Render without a window or GL.
class HeadlessImGui {
 public:
  explicit HeadlessImGui(float width = 1280, float height = 800) {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(width, height);
    io.DeltaTime = 1.0f / 60;
    const std::string font = plot::figure_font_path();
    for (float size : {15.0f, 13.0f, 14.0f})
      fonts.push_back(font.empty() ? io.Fonts->AddFontDefault() : io.Fonts->AddFontFromFileTTF(font.c_str(), size));
    unsigned char* pixels = nullptr;
    int atlas_width = 0, atlas_height = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &atlas_width, &atlas_height);
    io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(0xF0)));
  }
  ~HeadlessImGui() { ImGui::DestroyContext(); }
  HeadlessImGui(const HeadlessImGui&) = delete;
  HeadlessImGui& operator=(const HeadlessImGui&) = delete;

  std::vector<ImFont*> fonts;
};

// Records the text a view draws (export destinations have no pointer).
class TextCanvas : public plot::Canvas {
 public:
  void line(plot::Vec2, plot::Vec2, plot::Color, float) override {}
  void polyline(const plot::Vec2*, int, plot::Color, float) override {}
  void fill_rect(plot::Rect, plot::Color) override {}
  void stroke_rect(plot::Rect, plot::Color, float) override {}
  void fill_circle(plot::Vec2, float, plot::Color) override {}
  void text(plot::Vec2, const std::string& text, plot::Color, float, plot::TextAlign, float) override { all += text + "\n"; }
  plot::Vec2 measure_text(const std::string& text, float size) override { return {0.6f * size * text.size(), size}; }
  void image(const plot::ImageSource&, plot::Rect, plot::Vec2, plot::Vec2) override { ++images; }
  void push_clip(plot::Rect) override {}
  void pop_clip() override {}
  std::string all;
  int images = 0;
};

// Draws `view` into one headless ImGui frame filling the display; returns the frame's vertex count.
inline int render_frame(const views::FigureView& view, views::ViewContext& context, views::ViewStates& states,
                        HeadlessImGui& imgui, plot::TextureProvider& textures) {
  ImGui::NewFrame();
  ImGui::SetNextWindowPos({0, 0});
  ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
  ImGui::Begin("view", nullptr, ImGuiWindowFlags_NoDecoration);
  plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), &textures, imgui.fonts);
  const ImVec2 origin = ImGui::GetCursorScreenPos(), size = ImGui::GetContentRegionAvail();
  view.draw(canvas, {{origin.x, origin.y}, {origin.x + size.x, origin.y + size.y}}, context, states);
  ImGui::End();
  ImGui::Render();
  return ImGui::GetDrawData()->TotalVtxCount;
}

}  // namespace headscope::test
