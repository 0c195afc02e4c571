// Captures started from the workbench run in a child `headscope capture` process (HDF5 1.10 cannot read a
// file that the same process writes in SWMR mode, and a child keeps the model off the UI thread and out
// of the window's memory). The window opens the child's store like any live file; this class starts,
// stops (SIGINT: the capture stops after its current sample and leaves a resumable store) and reports on
// the children.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace headscope::app {

struct CaptureChild {
  std::string model_dir, prompts_path, out_path, log_path;
  pid_t pid = -1;
  std::int64_t total_samples = 0;  // prompts in the set (for progress and ETA)
  bool running = false;
  int exit_code = 0;               // once finished
  std::string log_tail;            // the child's last stderr line(s) once it has finished with an error
};

class CaptureControl {
 public:
  ~CaptureControl();  // stops every child still running
  // Starts `headscope capture --model M --prompts P --out OUT <extra...>`; OUT is a new file in the cache
  // folder. Returns the store path. Throws std::runtime_error when the child cannot start.
  std::string start(const std::string& model_dir, const std::string& prompts_path,
                    const std::vector<std::string>& extra_arguments = {});
  void stop(const std::string& out_path);
  // Reaps finished children; call once a frame.
  void poll();
  const CaptureChild* find(const std::string& out_path) const;

 private:
  std::map<std::string, CaptureChild> children_;
};

// $XDG_CACHE_HOME/headscope (or ~/.cache/headscope), created if missing.
std::string cache_dir();

}  // namespace headscope::app
