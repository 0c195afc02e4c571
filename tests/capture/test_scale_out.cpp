// One capture over many processes (issue 17): the sample model over 60 prompts captured by one process,
// by three --shard array tasks joined with `merge`, and by `mpirun -n 3`, must give masters whose every
// array equals the one process's store, sample by sample, bit for bit (every process runs one thread, so
// the arithmetic is the same). A rank or task killed mid-run (at a file-size limit: a point chosen by
// bytes, not by a sleep) resumes alone and the master is equal again; analyze and export read the master.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "app/cli_support.h"
#include "core/store/master.h"
#include "core/store/reader.h"
#include "fault_support.h"
#include "store_equality.h"
#include "test_support.h"

namespace fs = std::filesystem;
namespace hs = headscope;
using hs::store::StoreReader;
using hs::test::run_headscope;

namespace {

fs::path samples_dir() { return hs::test::fixtures_dir() / ".." / ".." / "samples"; }

// The capture every process runs: the GPT-2-style sample model over the first 60 held-out prompts.
std::string capture_arguments(const fs::path& out) {
  return "capture --model " + (samples_dir() / "models" / "arith-gpt2").string() + " --prompts " +
         (samples_dir() / "prompts" / "arith_heldout.jsonl").string() + " --max-samples 60 --threads 1 --out " + out.string();
}

std::string shard(const fs::path& dir, int index) { return hs::store::shard_path((dir / "run.h5").string(), index, 3); }

#ifdef HEADSCOPE_TEST_MPIEXEC
// mpirun as CI runs it (root, 2 cores for 3 ranks), over TCP only: the shared-memory transport writes
// files at start-up, which the file-size limit of the killed rank must not meet.
std::string mpirun(const std::string& program) {
  return std::string(HEADSCOPE_TEST_MPIEXEC) + " --allow-run-as-root --oversubscribe --mca btl self,tcp -n 3 " + program;
}
int run_shell(const std::string& command, const fs::path& log) {
  const int status = std::system((command + " >" + log.string() + " 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

class ScaleOut : public ::testing::Test {
 protected:
  // One process's store of the 60 samples, captured once for every test of the suite.
  static void SetUpTestSuite() {
    single_ = new fs::path(fs::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / "ScaleOut-single.h5");
    fs::remove(*single_);
    const auto result = run_headscope(capture_arguments(*single_));
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  static void TearDownTestSuite() { delete single_; }
  void expect_equal_to_one_process(const fs::path& master) {
    const auto one = StoreReader::open(single_->string());
    const auto many = StoreReader::open(master.string());
    EXPECT_TRUE(many->complete());
    EXPECT_EQ(many->sample_count(), 60);
    hs::test::expect_same_run(*one, *many);
  }
  static fs::path* single_;
};
fs::path* ScaleOut::single_ = nullptr;

}  // namespace

TEST_F(ScaleOut, ArrayTasksJoinedByMergeEqualOneProcess) {
  const auto dir = hs::test::temp_dir();
  for (int i = 0; i < 3; ++i) {
    const auto result = run_headscope(capture_arguments(dir / "run.h5") + " --shard " + std::to_string(i) + "/3");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(fs::exists(shard(dir, i)));
  }
  EXPECT_FALSE(fs::exists(dir / "run.h5"));  // tasks write only their shards
  const auto merged = run_headscope("merge " + (dir / "run.h5").string() + " " + shard(dir, 2) + " " + shard(dir, 0) + " " + shard(dir, 1));
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  expect_equal_to_one_process(dir / "run.h5");
  // Balanced by tokens: each of the three shares holds about a third of the samples.
  const auto info = hs::store::read_master((dir / "run.h5").string());
  ASSERT_TRUE(info.has_value());
  for (const auto& s : info->shards) EXPECT_NEAR(static_cast<double>(s.mapped_samples), 20.0, 5.0) << s.file;
  // A merge that lacks a shard says which.
  const auto partial = run_headscope("merge " + (dir / "other.h5").string() + " " + shard(dir, 0) + " " + shard(dir, 2));
  EXPECT_NE(partial.exit_code, 0);
  EXPECT_NE(partial.err.find("shard 1 of 3 not given"), std::string::npos) << partial.err;
  EXPECT_FALSE(fs::exists(dir / "other.h5"));
}

TEST_F(ScaleOut, AKilledTaskResumesAloneAndTheMasterIsEqualAgain) {
  const auto dir = hs::test::temp_dir();
  for (int i : {0, 2}) ASSERT_EQ(run_headscope(capture_arguments(dir / "run.h5") + " --shard " + std::to_string(i) + "/3").exit_code, 0);
  // Task 1 dies at a write past 1.2 MB (a shard of 20 samples is about 1.9 MB).
  auto args = std::vector<std::string>{"capture", "--model", (samples_dir() / "models" / "arith-gpt2").string(), "--prompts",
                                       (samples_dir() / "prompts" / "arith_heldout.jsonl").string(), "--max-samples", "60",
                                       "--threads", "1", "--out", (dir / "run.h5").string(), "--shard", "1/3"};
  const auto end = hs::test::wait_child(hs::test::spawn_headscope(args, (dir / "killed.log").string(), 1200 << 10,
                                                                   hs::test::AtFileLimit::killed));
  ASSERT_FALSE(end.exited) << "the task was to be killed mid-run";
  {
    const auto killed = StoreReader::open(shard(dir, 1));
    EXPECT_FALSE(killed->complete());
    EXPECT_GT(killed->sample_count(), 0);
    EXPECT_LT(killed->sample_count(), 18);
  }
  // The master of what is there is valid, and says shard 1 is incomplete.
  ASSERT_EQ(run_headscope("merge " + (dir / "run.h5").string() + " " + shard(dir, 0) + " " + shard(dir, 1) + " " + shard(dir, 2)).exit_code, 0);
  EXPECT_FALSE(StoreReader::open((dir / "run.h5").string())->complete());
  const auto listed = run_headscope("inspect " + (dir / "run.h5").string());
  EXPECT_NE(listed.out.find("incomplete (resume it with --resume)"), std::string::npos) << listed.out;
  // Resumed alone, then merged: equal to the one process.
  const auto resumed = run_headscope(capture_arguments(dir / "run.h5") + " --shard 1/3 --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ASSERT_EQ(run_headscope("merge " + (dir / "run.h5").string() + " " + shard(dir, 0) + " " + shard(dir, 1) + " " + shard(dir, 2)).exit_code, 0);
  expect_equal_to_one_process(dir / "run.h5");
}

#ifdef HEADSCOPE_TEST_MPIEXEC
TEST_F(ScaleOut, MpiRanksWriteAMasterEqualToOneProcessAndToMerge) {
  const auto dir = hs::test::temp_dir();
  const auto exe = hs::test::headscope_exe().string();
  ASSERT_EQ(run_shell(mpirun(exe + " " + capture_arguments(dir / "run.h5") + " --progress-every 1"), dir / "mpirun.log"), 0)
      << hs::test::file_bytes(dir / "mpirun.log");
  expect_equal_to_one_process(dir / "run.h5");
  // One progress line for the job (rank 0), not one per rank.
  const std::string log = hs::test::file_bytes(dir / "mpirun.log");
  EXPECT_NE(log.find("master " + (dir / "run.h5").string() + ": 60 samples from 3 shards"), std::string::npos) << log;
  EXPECT_EQ(log.find("rank 1: captured"), std::string::npos) << log;
  // merge of the same shards gives the same master.
  ASSERT_EQ(run_headscope("merge " + (dir / "merged.h5").string() + " " + shard(dir, 0) + " " + shard(dir, 1) + " " + shard(dir, 2)).exit_code, 0);
  hs::test::expect_same_run(*StoreReader::open((dir / "run.h5").string()), *StoreReader::open((dir / "merged.h5").string()));
  // The analyses and figures read the master as one run.
  const auto analyzed = run_headscope("analyze " + (dir / "run.h5").string());
  EXPECT_EQ(analyzed.exit_code, 0) << analyzed.err;
  for (const char* view : {"head-grid", "token-heatmap"}) {
    const auto figure = dir / (std::string(view) + ".svg");
    const auto exported = run_headscope("export --run " + (dir / "run.h5").string() + " --view " + view + " --sample 45 --out " + figure.string());
    EXPECT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_GT(fs::file_size(figure), 1000u);
  }
  expect_equal_to_one_process(dir / "run.h5");  // analyze added /analysis and changed no array
}

TEST_F(ScaleOut, AKilledRankResumesAndTheMasterIsEqualAgain) {
  const auto dir = hs::test::temp_dir();
  const auto exe = hs::test::headscope_exe().string();
  // Rank 1 dies at a write past 1.2 MB; mpirun then ends the job.
  const std::string rank_one_limited = "bash -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then ulimit -f 1200; fi; exec " + exe + " " +
                                       capture_arguments(dir / "run.h5") + "'";
  EXPECT_NE(run_shell(mpirun(rank_one_limited), dir / "killed.log"), 0);
  {
    const auto killed = StoreReader::open(shard(dir, 1));
    EXPECT_FALSE(killed->complete()) << hs::test::file_bytes(dir / "killed.log");
    EXPECT_GT(killed->sample_count(), 0);
    EXPECT_LT(killed->sample_count(), 18);
  }
  ASSERT_EQ(run_shell(mpirun(exe + " " + capture_arguments(dir / "run.h5") + " --resume"), dir / "resumed.log"), 0)
      << hs::test::file_bytes(dir / "resumed.log");
  expect_equal_to_one_process(dir / "run.h5");
}
#else
TEST_F(ScaleOut, MpiRanks) { GTEST_SKIP() << "built without MPI (HEADSCOPE_WITH_MPI off): the mpirun tests need libopenmpi-dev"; }
#endif
