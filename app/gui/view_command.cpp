// `headscope view FILE...` (open stores in the workbench, watching any a capture is still writing) and
// `headscope` with no arguments (the workbench on the bundled sample model with a live capture of its
// held-out prompts; else samples/sample.h5; else empty with the runs panel). Hidden options for
// measurements: --bench-frames N, --screenshot FILE.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "app/cli/registry.h"
#include "app/gui/capture_control.h"
#include "app/gui/window.h"
#include "core/store/reader.h"
#include "core/version.h"

namespace headscope::app {

// The bundled sample model and its held-out prompt set, when both are in samples/.
static bool find_sample_model(std::string& model, std::string& prompts) {
  const auto samples = std::filesystem::path(HEADSCOPE_SOURCE_DIR) / "samples";
  for (const char* name : {"arith-llama", "arith-gpt2"})
    if (std::filesystem::exists(samples / "models" / name / "config.json")) {
      model = (samples / "models" / name).string();
      break;
    }
  for (const char* name : {"arith_heldout.jsonl"})
    if (std::filesystem::exists(samples / "prompts" / name)) {
      prompts = (samples / "prompts" / name).string();
      break;
    }
  return !model.empty() && !prompts.empty();
}

// `headscope` with no arguments: the workbench on the bundled sample model, capturing its held-out
// prompts live in a child process so the views fill in within seconds; without the model (or without
// the capture engine) the bundled sample store.
int run_default_workbench(int, char**) {
  WindowOptions options;
  CaptureControl captures;
  options.captures = &captures;
  std::string model, prompts;
#ifdef HEADSCOPE_HAS_TORCH
  if (find_sample_model(model, prompts)) {
    options.capture_model = model;
    options.capture_prompts = prompts;
    commands::CaptureCommand capture;
    capture.model_dir = model;
    capture.prompts_path = prompts;
    capture.pinned_heads = {{1, 0}};
    capture.threads = 1;
    const std::string path = captures.start(capture);
    std::fprintf(stderr, "headscope: capturing %s on %s -> %s\n", prompts.c_str(), model.c_str(), path.c_str());
    // Open the window once the child's store is readable (the model loads in a second or two).
    for (int attempt = 0; attempt < 600; ++attempt) {
      captures.poll();
      const CaptureChild* child = captures.find(path);
      if (!child->process.running() && child->process.exit_code() != 0) {
        std::fprintf(stderr, "headscope: the sample capture failed: %s\n", child->process.failure().c_str());
        break;
      }
      try {
        if (std::filesystem::exists(path) && store::StoreReader::open(path)) {
          options.files.push_back(path);
          break;
        }
      } catch (const store::StoreError&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
#else
  (void)find_sample_model;
#endif
  const auto sample = std::filesystem::path(HEADSCOPE_SOURCE_DIR) / "samples" / "sample.h5";
  if (options.files.empty() && std::filesystem::exists(sample)) options.files.push_back(sample.string());
  // For documentation shots of the default workbench: HEADSCOPE_SCREENSHOT=FILE [HEADSCOPE_SCREENSHOT_FRAMES=N].
  if (const char* shot = std::getenv("HEADSCOPE_SCREENSHOT")) {
    options.screenshot = shot;
    options.remember_layout = false;
    if (const char* frames = std::getenv("HEADSCOPE_SCREENSHOT_FRAMES")) options.screenshot_frames = std::atoi(frames);
  }
  return run_window(options);
}

}  // namespace headscope::app

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("view", "Open stores in the workbench window (live files refresh as samples arrive)");
  auto options = std::make_shared<headscope::app::WindowOptions>();
  auto head = std::make_shared<std::string>();
  auto sample = std::make_shared<std::int64_t>(-1);
  auto size = std::make_shared<std::string>();
  cmd->add_option("files", options->files, "Stores (.h5) to open; sweep and ib result files open in windows of their own")->required()->check(CLI::ExistingFile);
  cmd->add_option("--head", *head, "Select this head at start (L3H5 or 3:5)");
  cmd->add_option("--sample", *sample, "Select this sample at start");
  cmd->add_option("--size", *size, "Initial window size WxH (default 1600x900)");
  cmd->add_option("--bench-frames", options->bench_frames,
                  "Measure N frames of the default layout once the data is in; print mean and p95 frame time");
  cmd->add_option("--screenshot", options->screenshot, "Write a PNG of the window after the data is in, then exit")
      ->group("");
  cmd->add_option("--screenshot-frames", options->screenshot_frames, "Frames to draw before the screenshot")->group("");
  cmd->callback([options, head, sample, size] {
    if (!head->empty()) {
      options->head = headscope::store::parse_head_name(*head);
      if (!options->head) throw CLI::ValidationError("--head", "expected L<layer>H<head> or layer:head, got " + *head);
    }
    if (*sample >= 0) options->sample = *sample;
    if (!size->empty() && std::sscanf(size->c_str(), "%dx%d", &options->width, &options->height) != 2)
      throw CLI::ValidationError("--size", "expected WxH, got " + *size);
    if (options->bench_frames > 0 || !options->screenshot.empty()) options->remember_layout = false;
    const int code = headscope::app::run_window(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
