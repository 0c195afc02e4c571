// The workbench window and its frame loop (see window.h).
#include "app/gui/window.h"

#include "app/gui/model_attention.h"

#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <GL/gl.h>
#include <cairo.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "app/gui/gl_textures.h"
#include "app/gui/result_windows.h"
#include "app/gui/sweep_control.h"
#include "app/gui/workbench.h"
#include "views/data/attention_source.h"
#include "views/plot/fonts.h"
#include "views/plot/plot.h"

namespace headscope::app {

std::string config_dir() {
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) base = xdg;
  else if (const char* home = std::getenv("HOME"); home && *home) base = std::filesystem::path(home) / ".config";
  else base = std::filesystem::temp_directory_path();
  const auto dir = base / "headscope";
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  return dir.string();
}

namespace {

// Latin, Greek, Cyrillic, punctuation, arrows, maths and shapes: what token text and the UI use.
const ImWchar kGlyphRanges[] = {0x0020, 0x024F, 0x0370, 0x03FF, 0x0400, 0x04FF, 0x2000, 0x206F,
                                0x2190, 0x21FF, 0x2200, 0x22FF, 0x2300, 0x23FF, 0x25A0, 0x25FF, 0};

// The figure font at the plot style's sizes; the first is also the UI font.
std::vector<ImFont*> load_fonts() {
  ImGuiIO& io = ImGui::GetIO();
  const std::string path = plot::figure_font_path();
  std::vector<ImFont*> fonts;
  if (path.empty()) {
    std::fprintf(stderr, "headscope: DejaVu Sans not found (install fonts-dejavu-core); using ImGui's pixel font\n");
    fonts.push_back(io.Fonts->AddFontDefault());
    return fonts;
  }
  const plot::PlotStyle& style = plot::style();
  ImFontConfig config;
  config.OversampleH = 2;
  config.OversampleV = 1;
  for (float size : {15.0f, style.tick_font_size, style.label_font_size})
    fonts.push_back(io.Fonts->AddFontFromFileTTF(path.c_str(), size, &config, kGlyphRanges));
  return fonts;
}

void write_screenshot(const std::string& path, int width, int height) {
  std::vector<unsigned char> pixels(std::size_t(width) * height * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_surface_flush(surface);
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int y = 0; y < height; ++y) {
    const unsigned char* in = &pixels[std::size_t(height - 1 - y) * width * 4];  // GL rows are bottom-up
    auto* out = reinterpret_cast<std::uint32_t*>(data + std::size_t(y) * stride);
    for (int x = 0; x < width; ++x)
      out[x] = (std::uint32_t(in[4 * x]) << 16) | (std::uint32_t(in[4 * x + 1]) << 8) | in[4 * x + 2];
  }
  cairo_surface_mark_dirty(surface);
  const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) throw std::runtime_error("cannot write screenshot " + path);
}

void print_frame_times(std::vector<double> milliseconds, int width, int height) {
  if (milliseconds.empty()) return;
  double total = 0;
  for (double m : milliseconds) total += m;
  std::sort(milliseconds.begin(), milliseconds.end());
  const double mean = total / milliseconds.size();
  const double p95 = milliseconds[std::min(milliseconds.size() - 1, static_cast<std::size_t>(0.95 * milliseconds.size()))];
  const char* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  std::printf("bench: %zu frames at %dx%d on %s\n", milliseconds.size(), width, height, renderer ? renderer : "?");
  std::printf("bench: frame time mean %.2f ms, p95 %.2f ms, max %.2f ms (%.1f fps at the mean)\n", mean, p95,
              milliseconds.back(), 1000.0 / mean);
}

}  // namespace

int run_window(const WindowOptions& options) {
  glfwSetErrorCallback([](int code, const char* message) { std::fprintf(stderr, "headscope: GLFW %d: %s\n", code, message); });
  if (!glfwInit()) throw std::runtime_error("cannot initialise GLFW (is there a display? try xvfb-run)");
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  GLFWwindow* window = glfwCreateWindow(options.width, options.height, "HeadScope", nullptr, nullptr);
  if (!window) {
    glfwTerminate();
    throw std::runtime_error("cannot open an OpenGL 3.3 window");
  }
  glfwMakeContextCurrent(window);
  const bool measuring = options.bench_frames > 0 || !options.screenshot.empty();
  glfwSwapInterval(measuring ? 0 : 1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  const std::string ini_path = config_dir() + "/imgui.ini";
  io.IniFilename = options.remember_layout ? ini_path.c_str() : nullptr;
  Workbench::register_settings_handler();
  ImGui::StyleColorsLight();
  ImGui::GetStyle().FrameRounding = 3;
  ImGui::GetStyle().ChildRounding = 3;
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  const std::vector<ImFont*> fonts = load_fonts();
  plot::PlotStyle screen_style = plot::style();
  screen_style.fill_frame_background = false;
  plot::set_style(screen_style);
  io.FontDefault = fonts.front();

  int exit_code = 0;
  {
    GlTextureProvider textures;
    Workbench workbench(&textures, fonts, make_model_attention_source());
    workbench.set_capture_control(options.captures);
    workbench.set_capture_defaults(options.capture_model, options.capture_prompts);
    SweepControl sweeps;                      // sweeps started from the drill-down (outlive their windows)
    ResultWindows results(&textures, fonts);  // sweep and ib files: windows of their own
#ifdef HEADSCOPE_HAS_TORCH  // `headscope sweep` exists only with the capture engine
    workbench.set_sweep_starter([&sweeps, &results](const views::SweepPlan& plan) {
      const std::string path = sweeps.start(plan);
      results.open_watched(path, sweeps.watch(path));
      return path;
    });
#endif
    // For a shot of a half-filled sweep: $HEADSCOPE_SCREENSHOT_SWEEP_SCALES=K waits for K scales in (or its end).
    const char* shot_scales = std::getenv("HEADSCOPE_SCREENSHOT_SWEEP_SCALES");
    for (const auto& file : options.files) {
      if (views::is_result_file(file)) results.open(file);
      else workbench.open(file);
    }
    if (options.head) workbench.selection().head = *options.head;
    if (options.sample) workbench.selection().sample = *options.sample;

    std::vector<double> frame_ms;
    int frames_after_idle = -1;
    const auto started = std::chrono::steady_clock::now();
    while (!glfwWindowShouldClose(window)) {
      glfwPollEvents();
      const auto frame_start = std::chrono::steady_clock::now();
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      workbench.draw_frame();
      results.draw();
      ImGui::Render();
      int fb_width = 0, fb_height = 0;
      glfwGetFramebufferSize(window, &fb_width, &fb_height);
      glViewport(0, 0, fb_width, fb_height);
      glClearColor(1, 1, 1, 1);  // the figures' background: panels do not paint their own
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      textures.end_frame();
      if (measuring) {
        // The data is "in" once every run is opened and idle; give up waiting after 20 s.
        const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const bool data_in = workbench.idle() && (!shot_scales || sweeps.shows_scales_or_ended(std::strtoul(shot_scales, nullptr, 10)));
        if (frames_after_idle < 0 && (data_in || waited > (shot_scales ? 180 : 20))) frames_after_idle = 0;
        else if (frames_after_idle >= 0) ++frames_after_idle;
        if (!options.screenshot.empty() && frames_after_idle >= options.screenshot_frames) {
          write_screenshot(options.screenshot, fb_width, fb_height);
          std::printf("screenshot: %s (%dx%d)\n", options.screenshot.c_str(), fb_width, fb_height);
          break;
        }
      }
      glfwSwapBuffers(window);
      if (options.bench_frames > 0 && frames_after_idle >= 3) {  // skip the frames that upload textures
        glFinish();
        frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - frame_start).count());
        if (static_cast<int>(frame_ms.size()) >= options.bench_frames) {
          print_frame_times(frame_ms, fb_width, fb_height);
          break;
        }
      }
      if (!measuring && !glfwGetWindowAttrib(window, GLFW_FOCUSED))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // stay light in the background
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}

}  // namespace headscope::app
