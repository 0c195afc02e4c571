// CaptureControl (see capture_control.h): posix_spawn of this executable's `capture` subcommand, stderr
// to a log file beside the store, SIGINT to stop, waitpid(WNOHANG) to reap.
#include "app/gui/capture_control.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "core/io/prompt_set.h"

extern char** environ;

namespace headscope::app {

namespace fs = std::filesystem;

std::string cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path dir = xdg && *xdg ? fs::path(xdg) / "headscope" : fs::path(home ? home : "/tmp") / ".cache" / "headscope";
  fs::create_directories(dir);
  return dir.string();
}

CaptureControl::~CaptureControl() {
  for (auto& [path, child] : children_) {
    if (!child.running) continue;
    kill(child.pid, SIGINT);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(child.pid, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (waitpid(child.pid, &status, WNOHANG) == 0) {
      kill(child.pid, SIGKILL);  // every completed sample is already on disk
      waitpid(child.pid, &status, 0);
    }
  }
}

std::string CaptureControl::start(const std::string& model_dir, const std::string& prompts_path,
                                  const std::vector<std::string>& extra_arguments) {
  if (!fs::exists(model_dir)) throw std::runtime_error(model_dir + ": no such model folder");
  CaptureChild child;
  child.model_dir = model_dir;
  child.prompts_path = prompts_path;
  child.total_samples = io::count_prompts(prompts_path);
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  const std::string base = cache_dir() + "/capture-" + fs::path(model_dir).filename().string() + "-" + stamp + "-" +
                           std::to_string(children_.size());
  child.out_path = base + ".h5";
  child.log_path = base + ".log";

  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this executable to start a capture");
  std::vector<std::string> args{exe.string(), "capture", "--model", model_dir, "--prompts", prompts_path, "--out", child.out_path};
  args.insert(args.end(), extra_arguments.begin(), extra_arguments.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, child.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  const int error = posix_spawn(&child.pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error("cannot start the capture process");
  child.running = true;
  const std::string path = child.out_path;
  children_[path] = child;
  return path;
}

void CaptureControl::stop(const std::string& out_path) {
  auto it = children_.find(out_path);
  if (it != children_.end() && it->second.running) kill(it->second.pid, SIGINT);
}

void CaptureControl::poll() {
  for (auto& [path, child] : children_) {
    if (!child.running) continue;
    int status = 0;
    if (waitpid(child.pid, &status, WNOHANG) != child.pid) continue;
    child.running = false;
    child.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (child.exit_code != 0) {
      std::ifstream log(child.log_path);
      std::string line, last;
      while (std::getline(log, line))
        if (!line.empty()) last = line.substr(line.find_last_of('\r') == std::string::npos ? 0 : line.find_last_of('\r') + 1);
      child.log_tail = last.empty() ? "the capture process failed (exit " + std::to_string(child.exit_code) + ")" : last;
    }
  }
}

const CaptureChild* CaptureControl::find(const std::string& out_path) const {
  auto it = children_.find(out_path);
  return it == children_.end() ? nullptr : &it->second;
}

}  // namespace headscope::app
