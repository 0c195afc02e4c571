// `headscope capture` under faults and mistakes: --overwrite checks every input before it touches the old
// store and replaces it only on success; a failed sample, Ctrl-C or a full disk leave an incomplete store
// (never complete=1), a clean exit (1, 130; no crash) and a store that --resume completes to the same
// arrays as an uninterrupted run; --resume refuses a run whose model or settings differ. Faults are
// injected with tests/fault_support.h (RLIMIT_FSIZE), on the tiny hf-reference GPT-2.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "core/store/reader.h"
#include "fault_support.h"

namespace fs = std::filesystem;
namespace hs = headscope::store;
namespace ht = headscope::test;
using namespace std::chrono_literals;

namespace {

const std::string kModel = (ht::fixtures_dir() / "hf-reference" / "gpt2").string();

// count prompts of token ids; `lengths` overrides the length of some (by index).
std::string write_prompts(const fs::path& path, int count, std::map<int, int> lengths = {}, int first_id = 0) {
  std::ofstream out(path);
  for (int i = 0; i < count; ++i) {
    out << "{\"id\": \"p" << (first_id + i) << "\", \"ids\": [";
    const int n = lengths.count(i) ? lengths[i] : 12 + (i * 5) % 30;
    for (int t = 0; t < n; ++t) out << (t ? "," : "") << (i * 31 + t * 7 + first_id) % 256;
    out << "]}\n";
  }
  return path.string();
}

std::vector<std::string> capture(const std::string& prompts, const std::string& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"capture", "--model", kModel, "--prompts", prompts, "--out", out, "--threads", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void expect_same_arrays(const std::string& a_path, const std::string& b_path) {
  auto a = hs::StoreReader::open(a_path), b = hs::StoreReader::open(b_path);
  ASSERT_EQ(a->sample_count(), b->sample_count());
  for (std::int64_t i = 0; i < a->sample_count(); ++i) {
    EXPECT_EQ(a->sample(i).id, b->sample(i).id);
    EXPECT_EQ(a->tokens(i), b->tokens(i));
    for (const auto& metric : a->layout().metrics) {
      const auto x = a->layer_slice(metric.name, i, 1), y = b->layer_slice(metric.name, i, 1);
      ASSERT_EQ(x.size(), y.size());
      for (std::size_t k = 0; k < x.size(); ++k)
        EXPECT_TRUE(x[k] == y[k] || (std::isnan(x[k]) && std::isnan(y[k]))) << metric.name << " sample " << i;
    }
  }
}

// Waits (bounded) until `path` holds at least `samples` committed samples.
bool wait_for_samples(const std::string& path, std::int64_t samples) {
  for (int attempt = 0; attempt < 6000; ++attempt) {
    try {
      if (fs::exists(path) && hs::StoreReader::open(path)->sample_count() >= samples) return true;
    } catch (const hs::StoreError&) {
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST(CaptureFaults, OverwriteChecksEveryInputBeforeTouchingTheStore) {
  const auto dir = ht::temp_dir();
  const std::string store = (dir / "run.h5").string(), prompts = write_prompts(dir / "good.jsonl", 3);
  ASSERT_TRUE(ht::run_child(capture(prompts, store)).ok());
  const std::string before = ht::file_bytes(store);
  auto refused = [&](const std::vector<std::string>& args, const std::string& what) {
    const auto end = ht::run_child(args);
    EXPECT_EQ(end.code, 1) << what << "\n" << end.err;
    EXPECT_EQ(ht::file_bytes(store), before) << what;
    EXPECT_FALSE(fs::exists(store + ".partial")) << what;
  };
  // A token id outside the vocabulary on the last line.
  const auto bad = (dir / "bad.jsonl").string();
  std::ofstream(bad) << ht::file_bytes(prompts) << "{\"id\": \"x\", \"ids\": [1, 2, 99999]}\n";
  refused(capture(bad, store, {"--overwrite"}), "a bad prompt line");
  // Text prompts and a model with no tokenizer.
  const auto text = (dir / "text.jsonl").string();
  std::ofstream(text) << "{\"id\": \"t\", \"text\": \"hello\"}\n";
  refused(capture(text, store, {"--overwrite"}), "no tokenizer");
  refused(capture(prompts, store, {"--overwrite", "--pin", "1:0,1:0"}), "a head pinned twice");
  // --out naming the prompt set.
  const std::string prompt_bytes = ht::file_bytes(prompts);
  EXPECT_EQ(ht::run_child(capture(prompts, prompts, {"--overwrite"})).code, 1);
  EXPECT_EQ(ht::file_bytes(prompts), prompt_bytes);
  // A duplicate pin never creates a file.
  EXPECT_EQ(ht::run_child(capture(prompts, (dir / "new.h5").string(), {"--pin", "1:0,1:0"})).code, 1);
  EXPECT_FALSE(fs::exists(dir / "new.h5"));
}

TEST(CaptureFaults, AFailedSampleLeavesAnIncompleteStoreThatResumes) {
  const auto dir = ht::temp_dir();
  const std::string store = (dir / "run.h5").string(), reference = (dir / "reference.h5").string();
  // Sample 3 has 4 tokens, fewer than the 6 flow positions: an error met only when the model reaches it.
  const auto prompts = write_prompts(dir / "prompts.jsonl", 5, {{3, 4}});
  const auto end = ht::run_child(capture(prompts, store));
  EXPECT_EQ(end.code, 1) << end.err;
  {
    auto reader = hs::StoreReader::open(store);
    EXPECT_FALSE(reader->complete());
    EXPECT_EQ(reader->sample_count(), 3);
  }
  const auto fixed = write_prompts(dir / "prompts.jsonl", 5);
  ASSERT_TRUE(ht::run_child(capture(fixed, store, {"--resume"})).ok());
  ASSERT_TRUE(ht::run_child(capture(fixed, reference)).ok());
  EXPECT_TRUE(hs::StoreReader::open(store)->complete());
  expect_same_arrays(store, reference);
}

TEST(CaptureFaults, CtrlCExits130WithAnIncompleteStoreThatResumes) {
  const auto dir = ht::temp_dir();
  const std::string store = (dir / "run.h5").string(), log = (dir / "capture.log").string();
  const auto prompts = write_prompts(dir / "prompts.jsonl", 200);
  const pid_t child = ht::spawn_headscope(capture(prompts, store), log);
  ASSERT_TRUE(wait_for_samples(store, 2));
  kill(child, SIGINT);
  const auto end = ht::wait_child(child, log);
  ASSERT_TRUE(end.exited) << end.err;
  ASSERT_EQ(end.code, 130) << end.err;
  {
    auto reader = hs::StoreReader::open(store);
    EXPECT_FALSE(reader->complete());
    EXPECT_LT(reader->sample_count(), 200);
  }
  ASSERT_TRUE(ht::run_child(capture(prompts, store, {"--resume"})).ok());
  auto reader = hs::StoreReader::open(store);
  EXPECT_TRUE(reader->complete());
  EXPECT_EQ(reader->sample_count(), 200);
}

TEST(CaptureFaults, AFullDiskOrAKillMidWriteEndsCleanlyAndResumesToTheSameStore) {
  const auto dir = ht::temp_dir();
  const std::string reference = (dir / "reference.h5").string();
  const auto prompts = write_prompts(dir / "prompts.jsonl", 20);
  ASSERT_TRUE(ht::run_child(capture(prompts, reference)).ok());
  const auto full_size = static_cast<long long>(fs::file_size(reference));
  int case_index = 0;
  for (const auto at_limit : {ht::AtFileLimit::writes_fail, ht::AtFileLimit::killed}) {
    const std::string store = (dir / ("run" + std::to_string(case_index++) + ".h5")).string();
    const auto end = ht::run_child(capture(prompts, store), full_size * 2 / 3, at_limit);
    if (at_limit == ht::AtFileLimit::writes_fail) {
      EXPECT_TRUE(end.exited) << "crashed with signal " << end.code << "\n" << end.err;
      EXPECT_EQ(end.code, 1) << end.err;
    } else {
      EXPECT_FALSE(end.exited) << "the capture was not stopped at the limit";
    }
    {
      auto reader = hs::StoreReader::open(store);
      EXPECT_FALSE(reader->complete());
      EXPECT_LT(reader->sample_count(), 20);
    }
    const auto resumed = ht::run_child(capture(prompts, store, {"--resume"}));
    ASSERT_TRUE(resumed.ok()) << resumed.err;
    EXPECT_TRUE(hs::StoreReader::open(store)->complete());
    expect_same_arrays(store, reference);
  }
}

TEST(CaptureFaults, ResumeRefusesAnotherModelOrOtherSettings) {
  const auto dir = ht::temp_dir();
  const std::string store = (dir / "run.h5").string();
  const auto prompts = write_prompts(dir / "prompts.jsonl", 4);
  ASSERT_TRUE(ht::run_child(capture(prompts, store, {"--max-samples", "2"})).ok());
  const std::string before = ht::file_bytes(store);
  // The same shape with other weights: a copy of the model with one value changed.
  const auto other = dir / "other-model";
  fs::create_directories(other);
  for (const char* file : {"config.json", "model.safetensors"}) fs::copy_file(fs::path(kModel) / file, other / file);
  {
    std::fstream weights(other / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    weights.seekp(-8, std::ios::end);
    weights.put('\x11');
  }
  auto other_model = capture(prompts, store, {"--resume"});
  other_model[2] = other.string();
  for (const auto& args : {capture(prompts, store, {"--resume", "--jsd-window", "7"}),
                           capture(prompts, store, {"--resume", "--generate", "3"}),
                           capture(prompts, store, {"--resume", "--float32"}),
                           capture(prompts, store, {"--resume", "--pin", "0:1"}), other_model}) {
    const auto end = ht::run_child(args);
    EXPECT_EQ(end.code, 1) << args[args.size() - 1] << "\n" << end.err;
    EXPECT_EQ(ht::file_bytes(store), before);
  }
  EXPECT_TRUE(ht::run_child(capture(prompts, store, {"--resume"})).ok());  // the same settings continue
  EXPECT_EQ(hs::StoreReader::open(store)->sample_count(), 4);
}

TEST(CaptureFaults, AnInterruptedOverwriteKeepsTheOldStoreAndResumeReplacesIt) {
  const auto dir = ht::temp_dir();
  const std::string store = (dir / "run.h5").string(), reference = (dir / "reference.h5").string();
  const std::string log = (dir / "capture.log").string();
  ASSERT_TRUE(ht::run_child(capture(write_prompts(dir / "old.jsonl", 3), store)).ok());
  const std::string before = ht::file_bytes(store);
  const auto prompts = write_prompts(dir / "new.jsonl", 200, {}, 100);
  const pid_t child = ht::spawn_headscope(capture(prompts, store, {"--overwrite"}), log);
  ASSERT_TRUE(wait_for_samples(store + ".partial", 2));
  kill(child, SIGINT);
  const auto end = ht::wait_child(child, log);
  ASSERT_EQ(end.code, 130) << end.err;
  EXPECT_EQ(ht::file_bytes(store), before);
  ASSERT_TRUE(fs::exists(store + ".partial"));
  const auto resumed = ht::run_child(capture(prompts, store, {"--resume"}));
  ASSERT_TRUE(resumed.ok()) << resumed.err;
  EXPECT_FALSE(fs::exists(store + ".partial"));
  ASSERT_TRUE(ht::run_child(capture(prompts, reference)).ok());
  EXPECT_TRUE(hs::StoreReader::open(store)->complete());
  expect_same_arrays(store, reference);
}
