// Runs `headscope` as a child process under an injected fault and reports how it ended: a file-size limit
// (RLIMIT_FSIZE, no root needed) either makes every write past it fail with EFBIG, as a full disk fails
// with ENOSPC (SIGXFSZ ignored), or kills the child at exactly that write (SIGXFSZ at its default action):
// a kill in the middle of writing, at a point chosen by the limit rather than by a sleep.
#pragma once
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace headscope::test {

enum class AtFileLimit { writes_fail, killed };

struct ChildEnd {
  bool exited = false;  // false: ended by a signal
  int code = -1;        // exit status, or the signal
  std::string err;      // its stderr
  bool ok() const { return exited && code == 0; }
};

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts headscope with `args` (stdout and stderr to `log`, when given); the caller waits.
inline pid_t spawn_headscope(std::vector<std::string> args, const std::string& log = "/dev/null", long long file_limit = -1,
                             AtFileLimit at_limit = AtFileLimit::writes_fail) {
  args.insert(args.begin(), headscope_exe().string());
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (file_limit >= 0) {
      const rlimit limit{static_cast<rlim_t>(file_limit), static_cast<rlim_t>(file_limit)};
      setrlimit(RLIMIT_FSIZE, &limit);
      signal(SIGXFSZ, at_limit == AtFileLimit::writes_fail ? SIG_IGN : SIG_DFL);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

inline ChildEnd wait_child(pid_t pid, const std::string& log = "") {
  int status = 0;
  waitpid(pid, &status, 0);
  ChildEnd end;
  end.exited = WIFEXITED(status);
  end.code = end.exited ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
  if (!log.empty()) end.err = file_bytes(log);
  return end;
}

// Runs headscope to the end under an optional file-size limit.
inline ChildEnd run_child(const std::vector<std::string>& args, long long file_limit = -1,
                          AtFileLimit at_limit = AtFileLimit::writes_fail) {
  const auto log = (std::filesystem::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" /
                    ("child-" + std::to_string(getpid()) + ".log")).string();
  std::filesystem::create_directories(std::filesystem::path(log).parent_path());
  return wait_child(spawn_headscope(args, log, file_limit, at_limit), log);
}

// The files of `dir` whose names contain `part` (left-over temporaries).
inline std::vector<std::string> files_containing(const std::filesystem::path& dir, const std::string& part) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().find(part) != std::string::npos) out.push_back(entry.path().filename().string());
  return out;
}

}  // namespace headscope::test
