// Helpers for the views' tests: a small synthetic store written once per test binary, and a headless
// ImGui context (font atlas built from the figure font, no GL) in which views draw real frames.
#pragma once
#include <imgui.h>

#include <filesystem>
#include <string>

#include "test_support.h"
#include "views/data/demo_store.h"
#include "views/plot/fonts.h"

namespace headscope::test {

// 6 layers × 4 heads, 3 samples of about 80 tokens, heads L0H0 and L2H1 pinned.
inline std::string small_demo_store() {
  static const std::string path = [] {
    const auto dir = std::filesystem::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / "views-demo";
    std::filesystem::create_directories(dir);
    const auto file = (dir / "demo.h5").string();
    views::DemoStoreOptions options;
    options.layer_count = 6;
    options.head_count = 4;
    options.sample_count = 3;
    options.token_count = 80;
    options.pinned = {{0, 0}, {2, 1}};
    views::write_demo_store(file, options);
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

}  // namespace headscope::test
