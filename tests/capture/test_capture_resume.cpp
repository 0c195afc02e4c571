// The capture across crashes and on demand: a pinned head's stored attention equals the on-demand
// recompute (teacher-forced and latent samples); a `headscope capture` killed with SIGKILL and resumed
// gives the same store as an uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "capture/session/capture_session.h"
#include "capture/session/recompute.h"
#include "capture/sweep/sweep_samples.h"
#include "core/io/npz.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace hc = headscope::capture;
namespace hs = headscope::store;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path model_dir(const std::string& name) { return headscope::test::fixtures_dir() / "hf-reference" / name; }

std::string write_prompts(const fs::path& dir, int count) {
  const auto path = (dir / "prompts.jsonl").string();
  std::ofstream out(path);
  for (int i = 0; i < count; ++i) {
    out << "{\"id\": \"p" << i << "\", \"level\": " << (i % 5 + 1) << ", \"ids\": [";
    const int n = 12 + (i * 5) % 40;
    for (int t = 0; t < n; ++t) out << (t ? "," : "") << (i * 31 + t * 7) % 256;
    out << "]}\n";
  }
  return path;
}

void run(const hc::CaptureSettings& settings) {
  hc::CaptureSession session(settings);
  session.start();
  session.wait();
}

}  // namespace

TEST(CaptureRecompute, PinnedEqualsOnDemandRecompute) {
  const auto dir = headscope::test::temp_dir();
  hc::CaptureSettings s;
  s.model_dir = model_dir("qwen2").string();
  s.prompts_path = write_prompts(dir, 3);
  s.out_path = (dir / "run.h5").string();
  s.pinned_heads = {{0, 3}, {1, 1}};
  run(s);
  auto reader = hs::StoreReader::open(s.out_path);
  hc::AttentionRecomputer recompute(s.model_dir);
  for (std::int64_t i = 0; i < reader->sample_count(); ++i)
    for (const auto& head : s.pinned_heads) {
      const auto stored = reader->pinned_attention(i, head);
      const auto fresh = recompute.head_attention(reader->tokens(i), head);
      ASSERT_TRUE(stored.has_value());
      ASSERT_EQ(stored->size(), fresh.size());
      for (std::size_t k = 0; k < fresh.size(); ++k) EXPECT_NEAR((*stored)[k], fresh[k], 1e-6);
    }
}

TEST(CaptureRecompute, LatentLoopFlowAndRecompute) {
  const auto dir = headscope::test::temp_dir();
  hc::CaptureSettings s;
  s.model_dir = model_dir("llama").string();
  s.prompts_path = write_prompts(dir, 2);
  s.out_path = (dir / "latent.h5").string();
  s.mode = hc::CaptureMode::latent;
  s.latent_steps = 6;
  s.flow_select = hc::FlowSelect::latent_steps;
  s.pinned_heads = {{1, 0}};
  run(s);
  auto reader = hs::StoreReader::open(s.out_path);
  ASSERT_EQ(reader->layout().flow_size, 6);
  hc::AttentionRecomputer recompute(s.model_dir);
  for (std::int64_t i = 0; i < reader->sample_count(); ++i) {
    const auto info = reader->sample(i);
    const auto tokens = reader->tokens(i);
    EXPECT_EQ(info.prompt_length + 6, info.token_count);
    for (int t = info.prompt_length; t < info.token_count; ++t) EXPECT_EQ(tokens[t], -1);
    const auto positions = reader->flow_positions(i);
    for (int k = 0; k < 6; ++k) EXPECT_EQ(positions[k], info.prompt_length + k);
    const auto fresh = recompute.head_attention(tokens, {1, 0});
    const auto stored = *reader->pinned_attention(i, {1, 0});
    for (std::size_t k = 0; k < fresh.size(); ++k) EXPECT_NEAR(stored[k], fresh[k], 1e-5);
    // The flow block is the latent positions' block of the full attention; rows of a full row sum to 1.
    const auto flow = reader->flow(i);
    const int n = info.token_count;
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 6; ++b)
        EXPECT_FLOAT_EQ(flow[((1 * 4 + 0) * 6 + a) * 6 + b], stored[(positions[a]) * n + positions[b]]);
  }
}

// SIGKILL a capture mid-run, resume it, and compare with an uninterrupted run, array by array.
TEST(CaptureResume, SigkillThenResumeEqualsUninterrupted) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = write_prompts(dir, 40);
  const std::string model = model_dir("gpt2").string(), exe = headscope::test::headscope_exe().string();
  const auto killed = (dir / "killed.h5").string(), reference = (dir / "reference.h5").string();
  auto capture_args = [&](const std::string& out) {
    return std::vector<std::string>{exe, "capture", "--model", model, "--prompts", prompts, "--out", out, "--pin", "1:3", "--threads", "1"};
  };
  auto spawn = [](std::vector<std::string> args) {
    pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      freopen("/dev/null", "w", stderr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  };
  pid_t child = spawn(capture_args(killed));
  // Wait until a few samples are committed, then kill.
  std::int64_t seen = 0;
  for (int attempt = 0; attempt < 3000 && seen < 5; ++attempt) {
    std::this_thread::sleep_for(10ms);
    try {
      if (fs::exists(killed)) seen = hs::StoreReader::open(killed)->sample_count();
    } catch (const hs::StoreError&) {
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the capture finished before it could be killed";
  const auto committed = hs::StoreReader::open(killed)->sample_count();
  ASSERT_GE(committed, 5);
  ASSERT_LT(committed, 40);

  auto resume = capture_args(killed);
  resume.push_back("--resume");
  pid_t resumed = spawn(resume);
  waitpid(resumed, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  pid_t uninterrupted = spawn(capture_args(reference));
  waitpid(uninterrupted, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto a = hs::StoreReader::open(killed), b = hs::StoreReader::open(reference);
  ASSERT_EQ(a->sample_count(), 40);
  ASSERT_EQ(b->sample_count(), 40);
  EXPECT_TRUE(a->complete());
  for (std::int64_t i = 0; i < 40; ++i) {
    EXPECT_EQ(a->sample(i).id, b->sample(i).id);
    EXPECT_EQ(a->tokens(i), b->tokens(i));
    EXPECT_EQ(a->flow(i), b->flow(i));
    EXPECT_EQ(a->pinned_attention(i, {1, 3}), b->pinned_attention(i, {1, 3}));
    for (const auto& metric : a->layout().metrics)
      for (int layer = 0; layer < 2; ++layer) {
        const auto x = a->layer_slice(metric.name, i, layer), y = b->layer_slice(metric.name, i, layer);
        ASSERT_EQ(x.size(), y.size());
        for (std::size_t k = 0; k < x.size(); ++k)
          EXPECT_TRUE(x[k] == y[k] || (std::isnan(x[k]) && std::isnan(y[k]))) << metric.name << " sample " << i;
      }
  }
}

// Token shards: an .npz with an int32 [n, seq] array, rows read in order as samples "<shard>:<row>".
TEST(CaptureShards, NpzRowsBecomeSamples) {
  const auto dir = headscope::test::temp_dir();
  const int rows = 3, columns = 16;
  std::vector<std::int32_t> tokens(rows * columns);
  for (int i = 0; i < rows * columns; ++i) tokens[i] = (i * 13) % 256;
  const auto npy = headscope::io::npy_bytes("<i4", {rows, columns}, tokens.data(), tokens.size() * 4);
  const auto shard = (dir / "shard-000.npz").string();
  headscope::io::write_npz(shard, {{"tokens", npy}}, true);
  hc::CaptureSettings s;
  s.model_dir = model_dir("mistral").string();
  s.shards_path = shard;
  s.out_path = (dir / "shards.h5").string();
  s.max_samples = 2;
  run(s);
  auto reader = hs::StoreReader::open(s.out_path);
  ASSERT_EQ(reader->sample_count(), 2);
  EXPECT_EQ(reader->sample(1).id, "shard-000:1");
  const auto second = reader->tokens(1);
  EXPECT_EQ(second, std::vector<std::int32_t>(tokens.begin() + columns, tokens.begin() + 2 * columns));
}

// The capture and the sweep read token shards by one rule (core/io/sample_source.h): a folder of shards
// whose tokens are not the first member gives both the same samples, tokens and ids.
TEST(CaptureShards, SweepReadsTheSameSamplesAndIds) {
  const auto dir = headscope::test::temp_dir();
  const auto shards = dir / "shards";
  fs::create_directories(shards);
  const int rows = 2, columns = 12;
  for (int file = 0; file < 2; ++file) {
    std::vector<std::int32_t> tokens(rows * columns), mask(rows * columns, 1);
    for (int i = 0; i < rows * columns; ++i) tokens[i] = (i * 13 + file * 101) % 256;
    headscope::io::write_npz((shards / ("part-" + std::to_string(file) + ".npz")).string(),
                             {{"attention_mask", headscope::io::npy_bytes("<i4", {rows, columns}, mask.data(), mask.size() * 4)},
                              {"input_ids", headscope::io::npy_bytes("<i4", {rows, columns}, tokens.data(), tokens.size() * 4)}},
                             true);
  }
  hc::CaptureSettings s;
  s.model_dir = model_dir("mistral").string();
  s.shards_path = shards.string();
  s.out_path = (dir / "shards.h5").string();
  run(s);
  headscope::sweep::SampleSource source;
  source.shards_path = shards.string();
  const auto swept = headscope::sweep::load_sweep_samples(source, s.model_dir, 256);
  auto reader = hs::StoreReader::open(s.out_path);
  ASSERT_EQ(reader->sample_count(), 4);
  ASSERT_EQ(swept.size(), 4u);
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(reader->sample(i).id, swept[static_cast<std::size_t>(i)].id);
    const auto stored = reader->tokens(i);
    EXPECT_EQ(std::vector<std::int64_t>(stored.begin(), stored.end()), swept[static_cast<std::size_t>(i)].ids);
  }
  EXPECT_EQ(swept[2].id, "part-1:0");
}
