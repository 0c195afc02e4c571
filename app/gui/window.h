// The workbench window: GLFW + OpenGL 3.3 core (GLSL #version 330) + Dear ImGui with the figure font,
// imgui.ini in the user's config folder, the frame loop, and two hidden aids: a frame-time benchmark
// (mean and 95th percentile of the default layout) and a screenshot after N frames (read back from GL).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::app {

class CaptureControl;

struct WindowOptions {
  std::vector<std::string> files;        // stores to open (watched while a writer appends)
  int width = 1600, height = 900;        // initial window size
  int bench_frames = 0;                  // > 0: measure this many frames after the data is in, print, exit
  std::string screenshot;                // non-empty: write a PNG of the window, then exit
  int screenshot_frames = 30;            // frames to draw (after the data is in) before the screenshot
  std::optional<store::HeadRef> head;    // initial selection
  std::optional<std::int64_t> sample;
  bool remember_layout = true;           // false: do not read or write imgui.ini (bench, screenshots)
  CaptureControl* captures = nullptr;    // captures started from the window (and the default one)
  std::string capture_model, capture_prompts;  // what "New capture" offers first
};

// Opens the window and runs until it is closed (or the bench/screenshot is done); returns an exit code.
int run_window(const WindowOptions& options);

// $XDG_CONFIG_HOME/headscope (or ~/.config/headscope), created if missing.
std::string config_dir();

}  // namespace headscope::app
