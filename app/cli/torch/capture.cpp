// `headscope capture`: run a model over a prompt set and stream every head's per-token metrics into a
// store, with progress (samples, tokens/s, ETA, the layer within a long sample): one updating line on a
// terminal, a plain line every --progress-every seconds in a log; Ctrl-C stops after the current sample,
// leaves an incomplete store that `--resume` continues and exits 130 (an error exits 1, likewise resumable).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "capture/session/capture_session.h"

namespace {

volatile std::sig_atomic_t interrupted = 0;
void on_interrupt(int) { interrupted = 1; }

std::string format_seconds(double seconds) {
  if (seconds < 0) return "?";
  char buffer[32];
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%dh%02dm", s / 3600, (s / 60) % 60);
  else std::snprintf(buffer, sizeof buffer, "%dm%02ds", s / 60, s % 60);
  return buffer;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("capture", "Run a model over prompts and store every head's metrics at every token");
  auto command = std::make_shared<headscope::commands::CaptureCommand>();
  headscope::cli::bind_options(cmd, *command);
  cmd->get_option("--prompts")->excludes(cmd->get_option("--shards"));
  cmd->get_option("--shards")->excludes(cmd->get_option("--prompts"));
  cmd->callback([command] {
    const auto settings = headscope::capture::capture_settings(*command, headscope::cli::command_line());
    headscope::capture::CaptureSession session(settings);
    std::signal(SIGINT, on_interrupt);  // before the threads start: a Ctrl-C is never the default kill
    session.start();
    std::fprintf(stderr, "capturing %s -> %s\n", (settings.prompts_path.empty() ? settings.shards_path : settings.prompts_path).c_str(),
                 settings.out_path.c_str());
    // A terminal gets one updating line; a log file gets a plain line every --progress-every seconds.
    const bool terminal = isatty(fileno(stderr));
    auto last_line = std::chrono::steady_clock::now();
    while (session.progress().running) {
      if (interrupted) {
        session.cancel();
        interrupted = 0;
        std::fprintf(stderr, "%sstopping after the current sample...\n", terminal ? "\n" : "");
      }
      const auto p = session.progress();
      const auto now = std::chrono::steady_clock::now();
      if (terminal || now - last_line >= std::chrono::duration<double>(command->progress_every)) {
        last_line = now;
        const std::string skipped = p.samples_skipped ? " (+" + std::to_string(p.samples_skipped) + " already stored)" : "";
        const std::string layers = p.current_tokens > 0 ? "  sample of " + std::to_string(p.current_tokens) + " tokens: layer " +
                                                             std::to_string(p.current_layers_done) + "/" + std::to_string(p.layer_count)
                                                       : std::string();
        std::fprintf(stderr, "%s  %lld/%lld samples%s  %.0f tokens/s  elapsed %s  eta %s%s%s", terminal ? "\r\033[K" : "",
                     static_cast<long long>(p.samples_done), static_cast<long long>(p.samples_total), skipped.c_str(),
                     p.tokens_per_second, format_seconds(p.elapsed_seconds).c_str(), format_seconds(p.eta_seconds).c_str(),
                     layers.c_str(), terminal ? "" : "\n");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    session.wait();
    auto p = session.progress();
    std::fprintf(stderr, "%s%s %lld samples, %lld tokens in %s (%.1f tokens/s) -> %s\n",
                 terminal ? "\n" : "", p.cancelled ? "cancelled after" : "captured", static_cast<long long>(p.samples_done),
                 static_cast<long long>(p.tokens_done), format_seconds(p.elapsed_seconds).c_str(),
                 p.elapsed_seconds > 0 ? static_cast<double>(p.tokens_done) / p.elapsed_seconds : 0.0,
                 settings.out_path.c_str());
    if (!p.complete) {  // cancelled before every sample was stored
      std::fprintf(stderr, "%s\n", session.resume_advice().c_str());
      throw CLI::RuntimeError(130);  // as a shell reports a command stopped by SIGINT
    }
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
