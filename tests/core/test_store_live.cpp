// The store across processes: a reader in one process sees samples appear while a writer process
// appends; a writer killed with SIGKILL leaves every completed sample readable; resume continues after
// the last complete sample with no duplicate and gives the same store as an uninterrupted run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "store_test_data.h"
#include "store_writer_child.h"
#include "test_support.h"

using namespace headscope;
using namespace headscope::store;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<StoreReader> wait_for_file(const std::string& path) {
  for (int attempt = 0; attempt < 400; ++attempt) {
    try {
      if (std::filesystem::exists(path)) return StoreReader::open(path);
    } catch (const StoreError&) {
    }
    std::this_thread::sleep_for(10ms);
  }
  return nullptr;
}

bool same_trace(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

// Every array of every sample of `a` equals `b`'s.
void expect_same_store(const StoreReader& a, const StoreReader& b) {
  ASSERT_EQ(a.sample_count(), b.sample_count());
  ASSERT_EQ(a.token_count(), b.token_count());
  for (std::int64_t i = 0; i < a.sample_count(); ++i) {
    EXPECT_EQ(a.sample(i).id, b.sample(i).id);
    EXPECT_EQ(a.sample(i).token_start, b.sample(i).token_start);
    EXPECT_EQ(a.tokens(i), b.tokens(i));
    EXPECT_EQ(a.token_text(i), b.token_text(i));
    EXPECT_EQ(a.flow(i), b.flow(i));
    EXPECT_EQ(a.pinned_attention(i, {1, 2}), b.pinned_attention(i, {1, 2}));
    for (const auto& metric : a.layout().metrics)
      for (int layer = 0; layer < a.layout().layer_count; ++layer)
        EXPECT_TRUE(same_trace(a.layer_slice(metric.name, i, layer), b.layer_slice(metric.name, i, layer)));
  }
  for (const auto& metric : a.layout().metrics) EXPECT_TRUE(same_trace(a.summary(metric.name), b.summary(metric.name)));
  const auto ea = a.embeddings(), eb = b.embeddings();
  EXPECT_EQ(ea.labels, eb.labels);
  EXPECT_EQ(ea.vectors, eb.vectors);
}

}  // namespace

TEST(StoreLive, ReaderSeesSamplesAppear) {
  const auto path = (test::temp_dir() / "live.h5").string();
  const int total = 12;
  pid_t child = test::spawn_writer(path, total, 60ms);
  auto reader = wait_for_file(path);
  ASSERT_NE(reader, nullptr) << "the writer never produced a readable file";
  std::vector<std::int64_t> seen{reader->sample_count()};
  bool saw_live = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (reader->sample_count() < total && std::chrono::steady_clock::now() < deadline) {
    if (reader->refresh()) {
      seen.push_back(reader->sample_count());
      saw_live = saw_live || reader->live();
      // The newest sample is whole as soon as it is visible.
      const auto last = reader->sample_count() - 1;
      EXPECT_EQ(reader->tokens(last), test::make_sample(test::small_layout(), static_cast<int>(last)).tokens);
    }
    std::this_thread::sleep_for(5ms);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(reader->sample_count(), total);
  EXPECT_GE(seen.size(), 4u) << "the reader should have seen the file grow in several steps";
  EXPECT_TRUE(saw_live) << "inspect/live() should report a live writer while it appends";
}

TEST(StoreLive, SigkillThenReopenAndResume) {
  const auto dir = test::temp_dir();
  const auto path = (dir / "killed.h5").string();
  const int total = 40;
  pid_t child = test::spawn_writer(path, total, 2ms);
  // Kill the writer mid-run, once a few samples are committed.
  auto watcher = wait_for_file(path);
  ASSERT_NE(watcher, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + 60s;  // a writer that died early must not hang the suite
  while (watcher->sample_count() < 7 && std::chrono::steady_clock::now() < deadline) {
    watcher->refresh();
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(watcher->sample_count(), 7) << "the writer process stopped before committing 7 samples";
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer finished before it could be killed";
  watcher.reset();

  // Reopen: every completed sample is intact.
  auto reader = StoreReader::open(path);
  const std::int64_t committed = reader->sample_count();
  EXPECT_GE(committed, 7);
  EXPECT_LT(committed, total);
  EXPECT_FALSE(reader->complete());
  EXPECT_FALSE(reader->live());
  EXPECT_NE(inspect_json(path)["state"].get<std::string>().find("interrupted"), std::string::npos);
  const auto layout = test::small_layout();
  for (std::int64_t i = 0; i < committed; ++i) {
    const auto expected = test::make_sample(layout, static_cast<int>(i));
    EXPECT_EQ(reader->tokens(i), expected.tokens);
    EXPECT_EQ(reader->sample(i).id, expected.id);
  }
  reader.reset();

  // Resume: continue after the last complete sample, no duplicates.
  {
    auto writer = StoreWriter::resume(path);
    ASSERT_EQ(writer->sample_count(), committed);
    const auto done = writer->sample_ids();
    for (int i = 0; i < total; ++i) {
      const auto sample = test::make_sample(layout, i);
      if (std::find(done.begin(), done.end(), sample.id) != done.end()) continue;
      writer->append(sample);
    }
    writer->close();
  }
  // The same store as an uninterrupted run.
  const auto reference_path = (dir / "reference.h5").string();
  {
    auto writer = StoreWriter::create(reference_path, layout, {});
    for (int i = 0; i < total; ++i) writer->append(test::make_sample(layout, i));
    writer->close();
  }
  auto resumed = StoreReader::open(path);
  auto reference = StoreReader::open(reference_path);
  EXPECT_TRUE(resumed->complete());
  expect_same_store(*resumed, *reference);
}

// Kills a writer that appends back to back, at several arbitrary moments (likely mid-flush): the file
// always reopens and every committed sample is whole.
TEST(StoreLive, SigkillAtArbitraryMoments) {
  // Every array of every committed sample must survive, compressed ones included. HEADSCOPE_KILL_ROUNDS
  // raises the number of kills for a stress run (default 6, each at another moment).
  const auto dir = test::temp_dir();
  const auto layout = test::small_layout();
  const char* rounds_env = std::getenv("HEADSCOPE_KILL_ROUNDS");
  const int rounds = rounds_env ? std::max(1, std::atoi(rounds_env)) : 6;
  for (int round = 0; round < rounds; ++round) {
    const auto path = (dir / ("killed-" + std::to_string(round) + ".h5")).string();
    pid_t child = test::spawn_writer(path, 100000, 0ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + (23 * round) % 150));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    if (!std::filesystem::exists(path)) continue;  // killed before the file existed
    std::unique_ptr<StoreReader> reader;
    try {
      reader = StoreReader::open(path);
    } catch (const StoreError& e) {
      // Killed while the file itself was being created (before the first flush): nothing was committed.
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
      continue;
    }
    const auto committed = reader->sample_count();
    const auto reference_path = (dir / ("reference-" + std::to_string(round) + ".h5")).string();
    {
      auto writer = StoreWriter::create(reference_path, layout, {});
      for (std::int64_t i = 0; i < committed; ++i) writer->append(test::make_sample(layout, static_cast<int>(i)));
      writer->close();
    }
    {
      SCOPED_TRACE("round " + std::to_string(round) + ", " + std::to_string(committed) + " samples committed");
      expect_same_store(*reader, *StoreReader::open(reference_path));
    }
    reader.reset();
    auto writer = StoreWriter::resume(path);
    const auto before = writer->sample_count();
    writer->append(test::make_sample(layout, static_cast<int>(before)));
    writer->close();
    EXPECT_EQ(StoreReader::open(path)->sample_count(), before + 1);
    std::filesystem::remove(path);
    std::filesystem::remove(reference_path);
  }
}

// A reader opened at any moment of a writer's run (even before the writer has switched the file to SWMR
// mode: opening waits for it) reads every committed sample whole and as written, through refresh(),
// without one spurious error: every dataset is refreshed after the committed count is read.
TEST(StoreLive, ReadsEveryCommittedSampleWhileTheWriterAppends) {
  const auto dir = test::temp_dir();
  const auto layout = test::small_layout();
  const int total = 8;
  for (int run = 0; run < 3; ++run) {
    const auto path = (dir / ("run" + std::to_string(run) + ".h5")).string();
    const pid_t child = test::spawn_writer(path, total, 0ms);
    const auto deadline = std::chrono::steady_clock::now() + 60s;  // a hang guard only
    while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    std::unique_ptr<StoreReader> reader;
    ASSERT_NO_THROW(reader = StoreReader::open(path)) << "opened as soon as the file appeared";
    std::int64_t checked = 0;
    while (checked < total && std::chrono::steady_clock::now() < deadline) {
      ASSERT_NO_THROW(reader->refresh());
      for (; checked < reader->sample_count(); ++checked) {
        const auto expected = test::make_sample(layout, static_cast<int>(checked));
        EXPECT_EQ(reader->sample(checked).id, expected.id);
        EXPECT_EQ(reader->tokens(checked), expected.tokens);
        EXPECT_EQ(reader->token_text(checked), expected.token_text);
        EXPECT_EQ(reader->flow(checked), expected.flow);
        EXPECT_EQ(*reader->pinned_attention(checked, {1, 2}), expected.pinned_attention[0]);
        for (const auto& metric : layout.metrics)
          EXPECT_EQ(reader->layer_slice(metric.name, checked, 1).size(), expected.tokens.size() * layout.head_count);
      }
      if (checked < total) std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(checked, total);
    EXPECT_EQ(reader->embeddings().labels.size(), static_cast<std::size_t>(reader->embedding_count()));
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}
