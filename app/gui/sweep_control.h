// Sweeps started from the head drill-down: each a child `headscope sweep ... --out FILE.h5` process
// (app/process/child_process.h), whose result window opens at once and fills in as the child commits
// the baseline with both checks, then each scale (the file is rewritten whole and renamed over, so the
// window never reads a half-written scale). The window's header shows progress, Stop and the child's
// error in plain words.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "app/gui/result_windows.h"
#include "app/process/child_process.h"
#include "views/sweep_launch.h"

namespace headscope::app {

struct SweepChild {
  views::SweepPlan plan;
  std::string out_path;
  ChildProcess process;  // its log is OUT.log
  // As the result window last read the file.
  bool file_seen = false, baseline_done = false, complete = false;
  bool seen_after_exit = false;  // the window looked at the file once more after the child ended
  std::size_t conditions_done = 0;
};

class SweepControl {
 public:
  // Starts `headscope sweep <plan> --out OUT` with OUT a new file in the cache folder; returns OUT (the
  // child writes it once the model is loaded). Throws std::runtime_error when the child cannot start.
  std::string start(const views::SweepPlan& plan);
  void stop(const std::string& out_path) { children_.stop(out_path); }
  void poll() { children_.poll(); }
  const SweepChild* find(const std::string& out_path) const { return children_.find(out_path); }
  SweepChild* find(const std::string& out_path) { return children_.find(out_path); }
  // What ResultWindows::open_watched needs for OUT: re-reading the file when the child replaced it, and
  // the header.
  std::unique_ptr<ResultWatch> watch(const std::string& out_path);
  // For screenshots of a half-filled sweep: true once a sweep's window shows `scales` scales of an
  // unfinished sweep, or a sweep has ended (done, stopped or failed).
  bool shows_scales_or_ended(std::size_t scales) const;

 private:
  ChildRuns<SweepChild> children_;
};

}  // namespace headscope::app
