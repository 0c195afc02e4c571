// ChildProcess (see child_process.h): posix_spawn, SIGINT, waitpid(WNOHANG), the log's tail.
#include "app/process/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace headscope::app {

namespace fs = std::filesystem;

ChildProcess::~ChildProcess() { stop_and_wait(); }

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this == &other) return *this;
  stop_and_wait();
  pid_ = other.pid_;
  running_ = other.running_;
  stop_requested_ = other.stop_requested_;
  exit_code_ = other.exit_code_;
  log_path_ = std::move(other.log_path_);
  log_tail_ = std::move(other.log_tail_);
  log_read_at_ = other.log_read_at_;
  log_final_ = other.log_final_;
  other.pid_ = -1;
  other.running_ = false;
  return *this;
}

void ChildProcess::start(const std::vector<std::string>& argv, const std::string& log_path) {
  if (running_) throw std::runtime_error("a child process is already running");
  if (argv.empty()) throw std::runtime_error("no program to start");
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (auto& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error("cannot start " + args[0] + " (error " + std::to_string(error) + ")");
  pid_ = pid;
  running_ = true;
  stop_requested_ = false;
  exit_code_ = 0;
  log_path_ = log_path;
  log_tail_.clear();
  log_final_ = false;
}

void ChildProcess::stop() {
  if (!running_) return;
  stop_requested_ = true;
  kill(pid_, SIGINT);
}

bool ChildProcess::poll() {
  if (!running_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  running_ = false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void ChildProcess::stop_and_wait() {
  if (!running_) return;
  stop();
  for (int i = 0; i < 100 && poll(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (running_) {  // whatever the child had committed is on disk already
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    running_ = false;
    exit_code_ = 128 + SIGKILL;
  }
}

const std::string& ChildProcess::log_tail() const {
  const auto now = std::chrono::steady_clock::now();
  if (log_path_.empty() || log_final_ || (running_ && now - log_read_at_ < std::chrono::milliseconds(250))) return log_tail_;
  log_read_at_ = now;
  log_final_ = !running_;
  std::ifstream log(log_path_, std::ios::binary);
  log.seekg(0, std::ios::end);
  const std::streamoff size = log.tellg();
  const std::streamoff from = size > 8192 ? size - 8192 : 0;  // the last few lines are enough
  log.seekg(from);
  std::string line, last;
  while (std::getline(log, line)) {
    const auto carriage = line.find_last_of('\r', line.size() > 1 ? line.size() - 2 : 0);
    if (carriage != std::string::npos && carriage + 1 < line.size()) line = line.substr(carriage + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) last = line;
  }
  log_tail_ = last;
  return log_tail_;
}

std::string ChildProcess::failure() const {
  if (running_ || !started() || exit_code_ == 0) return "";
  const std::string& tail = log_tail();
  if (!tail.empty()) return tail;
  return exit_code_ > 128 ? "the process was killed by signal " + std::to_string(exit_code_ - 128)
                          : "the process exited with status " + std::to_string(exit_code_);
}

std::string self_executable() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this executable (/proc/self/exe) to start a child process");
  return exe.string();
}

std::string cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path dir = xdg && *xdg ? fs::path(xdg) / "headscope" : fs::path(home ? home : "/tmp") / ".cache" / "headscope";
  fs::create_directories(dir);
  return dir.string();
}

std::string new_output_stem(const std::string& kind, const std::string& name) {
  static std::atomic<int> counter{0};
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return cache_dir() + "/" + kind + "-" + name + "-" + stamp + "-" + std::to_string(counter++);
}

}  // namespace headscope::app
