// Captures started from the workbench run in a child `headscope capture` process (app/process/
// child_process.h says why). The window opens the child's store like any live file; this class starts,
// stops (SIGINT: the capture stops after its current sample and leaves a resumable store) and reports on
// the children.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "app/process/child_process.h"
#include "core/commands/capture_command.h"

namespace headscope::app {

struct CaptureChild {
  std::string model_dir, prompts_path, out_path;
  std::int64_t total_samples = 0;  // prompts in the set (for progress and ETA)
  ChildProcess process;            // its log is OUT.log
};

class CaptureControl {
 public:
  // Starts `headscope capture` with `command`'s options (its model and prompt set given) and --out a new
  // file in the cache folder. Returns the store path. Throws std::runtime_error when the child cannot start.
  std::string start(commands::CaptureCommand command);
  void stop(const std::string& out_path) { children_.stop(out_path); }
  // Reaps finished children; call once a frame.
  void poll() { children_.poll(); }
  const CaptureChild* find(const std::string& out_path) const { return children_.find(out_path); }

 private:
  ChildRuns<CaptureChild> children_;  // destroyed first thing: stops every child still running
};

}  // namespace headscope::app
