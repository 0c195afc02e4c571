// Progress of a long command on stderr, suited to where stderr goes: on a terminal one line redrawn in
// place ("\r" + ESC[K, at most 10 times a second) that a final newline ends; in a log file or a pipe a
// plain line every --progress-every seconds (the first at once), never a carriage return. Every long
// subcommand (capture, sweep, gain-scan, ib, import, train) prints through it. Header-only, so the tests
// drive it with an injected clock and a memory stream.
#pragma once
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "app/cli/bind_options.h"
#include "core/commands/command_options.h"

namespace headscope::cli {

// "0m07s", "12m30s", "2h05m"; "?" for a negative (unknown) duration.
inline std::string format_seconds(double seconds) {
  if (!(seconds >= 0 && seconds < 1e12)) return "?";
  char buffer[32];
  const long long s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  else std::snprintf(buffer, sizeof buffer, "%lldm%02llds", s / 60, s % 60);
  return buffer;
}

// What one progress line says. done/total count units of work; the ETA, unless given, is the time per
// unit so far times the units left.
struct ProgressFigures {
  double done = 0;
  double total = 0;            // <= 0: unknown (no total, no ETA)
  std::string unit;            // "samples", "steps", "runs", "MB", "beta steps"
  double rate = -1;            // per second; < 0: not shown
  std::string rate_unit;       // "tokens/s", "records/s"
  double elapsed_seconds = 0;
  std::optional<double> eta_seconds;  // none: from done, total and elapsed; < 0: unknown
  std::string detail;          // last, free text: the phase, the file, the layer within a sample
};

// A count as people read it: "12", "3.5".
inline std::string format_count(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, value == std::floor(value) && std::abs(value) < 1e15 ? "%.0f" : "%.1f", value);
  return buffer;
}

// "3/10 samples  1520 tokens/s  elapsed 0m12s  eta 0m28s  scale 0.75"
inline std::string format_progress(const ProgressFigures& f) {
  std::string line = format_count(f.done);
  if (f.total > 0) line += "/" + format_count(f.total);
  if (!f.unit.empty()) line += " " + f.unit;
  if (f.rate >= 0) {
    char rate[48];
    std::snprintf(rate, sizeof rate, f.rate >= 100 ? "%.0f" : "%.1f", f.rate);
    line += std::string("  ") + rate + " " + f.rate_unit;
  }
  line += "  elapsed " + format_seconds(f.elapsed_seconds);
  double eta = f.eta_seconds.value_or(-1);
  if (!f.eta_seconds && f.total > 0 && f.done > 0) eta = f.elapsed_seconds / f.done * std::max(0.0, f.total - f.done);
  if (f.total > 0) line += "  eta " + format_seconds(eta);
  if (!f.detail.empty()) line += "  " + f.detail;
  return line;
}

class ProgressLine {
 public:
  using Clock = std::function<double()>;  // monotonic seconds
  static constexpr double kTerminalRedrawSeconds = 0.1;

  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  // On stderr, a terminal or not as isatty says.
  explicit ProgressLine(double every_seconds) : ProgressLine(isatty(fileno(stderr)) != 0, every_seconds) {}
  ProgressLine(bool terminal, double every_seconds, std::FILE* out = stderr, Clock clock = steady_seconds)
      : terminal_(terminal), every_seconds_(every_seconds), out_(out), clock_(std::move(clock)), start_(clock_()) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { finish(); }

  bool terminal() const { return terminal_; }
  double elapsed_seconds() const { return clock_() - start_; }

  // Shows `text` if its time has come (see the top of the file); returns whether it was printed.
  bool update(const std::string& text) {
    pending_ = text;
    const double now = clock_();
    const bool on_screen = !terminal_ || drawn_;  // a cleared terminal line comes back at once
    if (printed_any_ && on_screen && now - last_printed_ < (terminal_ ? kTerminalRedrawSeconds : every_seconds_)) return false;
    last_printed_ = now;
    printed_any_ = true;
    draw();
    return true;
  }
  bool update(const ProgressFigures& figures) { return update(format_progress(figures)); }

  // A line of its own (a message), never overwritten: above the progress line on a terminal, which is
  // redrawn under it.
  void message(const std::string& line) {
    if (terminal_ && drawn_) std::fprintf(out_, "\r\033[K");
    std::fprintf(out_, "%s\n", line.c_str());
    if (terminal_ && drawn_) draw();
    std::fflush(out_);
  }
  // Takes the progress line off a terminal before something else prints there (stdout shares it); the
  // next update draws it again.
  void clear() {
    if (!terminal_ || !drawn_) return;
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
    drawn_ = false;
  }
  // Ends the updating line: on a terminal the latest text stays, with a newline after it. A log gets
  // nothing (it already has a line every interval, and the command prints its summary).
  void finish() {
    if (!terminal_ || !drawn_) return;
    if (!pending_.empty()) std::fprintf(out_, "\r\033[K%s", pending_.c_str());
    std::fprintf(out_, "\n");
    std::fflush(out_);
    drawn_ = false;
    pending_.clear();
  }

 private:
  void draw() {
    if (terminal_) std::fprintf(out_, "\r\033[K%s", pending_.c_str());
    else std::fprintf(out_, "%s\n", pending_.c_str());
    drawn_ = terminal_;
    std::fflush(out_);
  }

  bool terminal_;
  double every_seconds_;
  std::FILE* out_;
  Clock clock_;
  double start_;
  double last_printed_ = 0;
  bool printed_any_ = false;
  bool drawn_ = false;   // a terminal line is on screen, not yet ended
  std::string pending_;  // the latest text given
};

// `--progress-every SECONDS` on a subcommand declared straight on CLI11, as the command tables declare it.
inline CLI::Option* add_progress_every(CLI::App* cmd, double& seconds) {
  return cmd->add_option(commands::kProgressEveryOption.flag, seconds, commands::kProgressEveryOption.help)
      ->check(range_check(commands::kProgressEveryOption))
      ->capture_default_str();
}

}  // namespace headscope::cli
