// The workbench's child processes (app/process/child_process.h) without a display: exit codes, the
// log's last line (carriage-return progress included), Stop as SIGINT, a child that cannot start, the
// destructor that never leaves a child behind, and ChildRuns keyed by output file.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "app/process/child_process.h"
#include "test_support.h"

using headscope::app::ChildProcess;

namespace {

// Polls until the child exits (or `seconds` pass); returns whether it exited.
bool wait_for_exit(ChildProcess& child, double seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (child.poll())
    if (std::chrono::steady_clock::now() > until) return false;
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return true;
}

std::vector<std::string> shell(const std::string& script) { return {"/bin/sh", "-c", script}; }

}  // namespace

TEST(ChildProcess, ExitCodeAndTheLogsLastLine) {
  const auto dir = headscope::test::temp_dir();
  ChildProcess child;
  EXPECT_FALSE(child.started());
  child.start(shell("printf 'sample 1/2\\rsample 2/2\\n' >&2; echo 'error: no such model folder' >&2; echo quiet; exit 3"),
              (dir / "child.log").string());
  EXPECT_TRUE(child.started());
  ASSERT_TRUE(wait_for_exit(child));
  EXPECT_FALSE(child.running());
  EXPECT_EQ(child.exit_code(), 3);
  EXPECT_EQ(child.log_tail(), "error: no such model folder") << "stderr only; stdout goes to /dev/null";
  EXPECT_EQ(child.failure(), "error: no such model folder");
  EXPECT_FALSE(child.stop_requested());
}

TEST(ChildProcess, ProgressAfterACarriageReturnAndStopIsSigint) {
  const auto dir = headscope::test::temp_dir();
  ChildProcess child;
  child.start(shell("printf 'scale 0.5: sample 1/8\\rscale 0.5: sample 2/8\\n' >&2; exec sleep 30"), (dir / "child.log").string());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (child.log_tail().empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(child.log_tail(), "scale 0.5: sample 2/8");
  EXPECT_TRUE(child.poll()) << "still running";
  child.stop();
  ASSERT_TRUE(wait_for_exit(child));
  EXPECT_TRUE(child.stop_requested());
  EXPECT_EQ(child.exit_code(), 128 + SIGINT);
  EXPECT_EQ(child.failure(), "scale 0.5: sample 2/8");
  EXPECT_THROW(child.start({}, (dir / "again.log").string()), std::runtime_error);
}

TEST(ChildProcess, AProgramThatCannotStartIsAnError) {
  const auto dir = headscope::test::temp_dir();
  ChildProcess child;
  EXPECT_THROW(child.start({(dir / "no-such-program").string()}, (dir / "child.log").string()), std::runtime_error);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, TheDestructorLeavesNoChildBehind) {
  const auto dir = headscope::test::temp_dir();
  pid_t pid = -1;
  {
    ChildProcess child;
    child.start(shell("exec sleep 30"), (dir / "child.log").string());
    ChildProcess moved = std::move(child);  // the moved-from one owns nothing
    EXPECT_FALSE(child.running());
    EXPECT_TRUE(moved.running());
    pid = moved.pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1) << "stopped and reaped";
  EXPECT_EQ(errno, ESRCH);
}

struct NamedChild {
  std::string name;
  ChildProcess process;
};

TEST(ChildRuns, KeyedByTheFileEachWrites) {
  const auto dir = headscope::test::temp_dir();
  headscope::app::ChildRuns<NamedChild> runs;
  NamedChild quick{"quick", {}};
  quick.process.start(shell("exit 0"), (dir / "quick.log").string());
  runs.add("a.h5", std::move(quick));
  NamedChild slow{"slow", {}};
  slow.process.start(shell("exec sleep 30"), (dir / "slow.log").string());
  runs.add("b.h5", std::move(slow));
  EXPECT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs.find("c.h5"), nullptr);
  ASSERT_NE(runs.find("b.h5"), nullptr);
  EXPECT_EQ(runs.find("b.h5")->name, "slow");
  runs.stop("b.h5");
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    runs.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while ((runs.find("a.h5")->process.running() || runs.find("b.h5")->process.running()) &&
           std::chrono::steady_clock::now() < until);
  EXPECT_EQ(runs.find("a.h5")->process.exit_code(), 0);
  EXPECT_EQ(runs.find("a.h5")->process.failure(), "");
  EXPECT_EQ(runs.find("b.h5")->process.exit_code(), 128 + SIGINT);
}

TEST(ChildProcess, OutputStemsAreFreshInTheCacheFolder) {
  const auto dir = headscope::test::temp_dir();
  setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  const std::string a = headscope::app::new_output_stem("sweep", "arith-llama"), b = headscope::app::new_output_stem("sweep", "arith-llama");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind((dir / "headscope" / "sweep-arith-llama-").string(), 0), 0u) << a;
  EXPECT_TRUE(std::filesystem::is_directory(dir / "headscope"));
}
