// Child processes of this executable's own subcommands, as the workbench starts them (a capture, a
// sweep): posix_spawn with stderr to a log file and stdout to /dev/null, SIGINT to stop, waitpid(WNOHANG)
// to reap, and the log's last line for progress and errors. A child keeps the model off the UI thread and
// out of the window's memory, and HDF5 1.10 cannot read a file the same process writes in SWMR mode.
// GUI-free, so it is tested without a display (tests/app/test_child_process.cpp).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace headscope::app {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // stops a child still running: SIGINT, up to 5 s to finish, then SIGKILL
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] with `argv`; its stderr goes to `log_path` (created or truncated). Throws
  // std::runtime_error when the process cannot start (or one is already running).
  void start(const std::vector<std::string>& argv, const std::string& log_path);
  void stop();          // SIGINT; a later poll() sees it exit
  bool poll();          // reaps the child once it has exited; returns running()
  bool running() const { return running_; }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool stop_requested() const { return stop_requested_; }
  int exit_code() const { return exit_code_; }  // once finished: its exit status, or 128 + the signal
  const std::string& log_path() const { return log_path_; }
  // The log's last non-empty line (after its last carriage return, for progress bars); re-read at most
  // every 250 ms while the child runs, and once after it exits.
  const std::string& log_tail() const;
  // Why it failed, for people: "" while running or after exit 0, else the log's last line (or the exit
  // status when the log is empty).
  std::string failure() const;

 private:
  void stop_and_wait();
  pid_t pid_ = -1;
  bool running_ = false, stop_requested_ = false;
  int exit_code_ = 0;
  std::string log_path_;
  mutable std::string log_tail_;
  mutable std::chrono::steady_clock::time_point log_read_at_{};
  mutable bool log_final_ = false;
};

// Children keyed by the file each writes (the workbench opens that file), each with what its starter
// remembers (Info must have a ChildProcess member named `process`).
template <typename Info>
class ChildRuns {
 public:
  Info& add(const std::string& out_path, Info info) { return runs_.insert_or_assign(out_path, std::move(info)).first->second; }
  void stop(const std::string& out_path) {
    if (Info* run = find(out_path)) run->process.stop();
  }
  void poll() {
    for (auto& entry : runs_) entry.second.process.poll();
  }
  Info* find(const std::string& out_path) {
    auto it = runs_.find(out_path);
    return it == runs_.end() ? nullptr : &it->second;
  }
  const Info* find(const std::string& out_path) const {
    auto it = runs_.find(out_path);
    return it == runs_.end() ? nullptr : &it->second;
  }
  std::size_t size() const { return runs_.size(); }
  auto begin() const { return runs_.begin(); }  // (out path, Info) pairs
  auto end() const { return runs_.end(); }

 private:
  std::map<std::string, Info> runs_;
};

// This executable (/proc/self/exe). Throws std::runtime_error when it cannot be found.
std::string self_executable();
// $XDG_CACHE_HOME/headscope (or ~/.cache/headscope), created if missing.
std::string cache_dir();
// A fresh path stem in cache_dir() for a child's output: "<dir>/<kind>-<name>-YYYYmmdd-HHMMSS-<n>"; the
// caller adds ".h5" and ".log". `n` counts up within this process, so two starts in a second differ.
std::string new_output_stem(const std::string& kind, const std::string& name);

}  // namespace headscope::app
