// RunData's typed reads (views/data/run_data.h): a RunRead is equal and ordered by every field it
// carries, and LiveRunData (background reader, snapshots) serves every kind of read with the same values
// DirectRunData reads synchronously.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

#include "test_support.h"
#include "app/demo_store/demo_store.h"
#include "core/store/writer.h"
#include "core/store_test_data.h"
#include "views/data/live_run_data.h"
#include "views/data/run_data.h"

using namespace headscope;
using views::RunRead;

namespace {

bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

TEST(RunRead, EqualAndOrderedByEveryField) {
  const std::vector<RunRead> distinct = {
      RunRead::summary_of("entropy"),          RunRead::summary_of("k90"),
      RunRead::layer_slice_of("entropy", 1, 2), RunRead::layer_slice_of("entropy", 1, 3),
      RunRead::layer_slice_of("entropy", 2, 2), RunRead::head_trace_of("entropy", 1, {2, 1}),
      RunRead::head_trace_of("entropy", 1, {2, 0}), RunRead::token_text_of(1),
      RunRead::pinned_attention_of(1, {0, 0}),  RunRead::flow_mean_of({0, 1, 2}),
      RunRead::flow_mean_of({0, 2}),            RunRead::analysis_of_run()};
  for (std::size_t i = 0; i < distinct.size(); ++i)
    for (std::size_t j = 0; j < distinct.size(); ++j) {
      EXPECT_EQ(distinct[i] == distinct[j], i == j) << i << " " << j;
      if (i != j) {
        EXPECT_NE(distinct[i] < distinct[j], distinct[j] < distinct[i]) << i << " " << j;
      }
    }
  EXPECT_EQ(RunRead::flow_mean_of({0, 1, 2}), RunRead::flow_mean_of({0, 1, 2}));
}

TEST(RunData, LiveServesEveryReadAsDirectDoes) {
  const std::string path = (test::temp_dir() / "run.h5").string();
  app::DemoStoreOptions options;
  options.layer_count = 3;
  options.head_count = 2;
  options.sample_count = 3;
  options.token_count = 30;
  options.pinned = {{0, 0}};
  app::write_demo_store(path, options);

  views::DirectRunData direct(path);
  views::LiveRunData live(path, 50);
  const store::HeadRef pinned{0, 0}, other{2, 1};
  const std::vector<std::int64_t> samples{0, 1, 2};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    live.begin_frame();
    // Ask for everything each frame (as views do): each arrives in a later snapshot.
    all = live.summary("entropy") && live.layer_slice("entropy", 1, 2) && live.head_trace("entropy", 1, other) &&
          live.token_text(1) && live.pinned_attention(1, pinned) && live.pinned_attention(1, other) &&
          live.flow_mean(samples) && live.analysis();
    if (!all) live.wait_idle();
  }
  ASSERT_TRUE(all) << "every read is served";
  EXPECT_TRUE(same_values(live.summary("entropy")->values, direct.summary("entropy")->values));
  EXPECT_TRUE(same_values(live.layer_slice("entropy", 1, 2)->values, direct.layer_slice("entropy", 1, 2)->values));
  EXPECT_TRUE(same_values(live.head_trace("entropy", 1, other)->values, direct.head_trace("entropy", 1, other)->values));
  EXPECT_TRUE(same_values(live.flow_mean(samples)->values, direct.flow_mean(samples)->values));
  EXPECT_EQ(*live.token_text(1), *direct.token_text(1));
  EXPECT_TRUE(live.pinned_attention(1, pinned)->pinned);
  EXPECT_FALSE(live.pinned_attention(1, other)->pinned);
  EXPECT_EQ(live.pinned_attention(1, pinned)->token_count, direct.pinned_attention(1, pinned)->token_count);
  EXPECT_TRUE(same_values(live.pinned_attention(1, pinned)->values, direct.pinned_attention(1, pinned)->values));
  EXPECT_EQ(live.analysis()->sample_count, direct.analysis()->sample_count);
  // A read already served is answered from the snapshot: nothing more is queued.
  live.summary("entropy");
  EXPECT_EQ(live.pending_requests(), 0u);
}

// A run watched while it was written shows as complete once its writer closes it (the reader opened beside
// the writer had read `complete = 0`; found on the default workbench, whose capture ended "interrupted").
// The writer is a forked child, as a capture is; it appends its second sample and closes when told.
TEST(RunData, LiveRunShowsCompleteWhenItsWriterFinishes) {
  const std::string path = (test::temp_dir() / "growing.h5").string();
  const auto layout = test::small_layout();
  int go[2], ready[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto writer = store::StoreWriter::create(path, layout, store::Provenance{}, true);
    writer->append(test::make_sample(layout, 0));
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1) _exit(2);
    writer->append(test::make_sample(layout, 1));
    writer->close();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);  // the first sample is committed
  views::LiveRunData live(path, 20);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto wait_for = [&](const std::function<bool()>& done) {
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      live.wait_idle();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the worker polls every 20 ms
      live.begin_frame();
    }
    return done();
  };
  const bool seen_live = wait_for([&] { return live.info().opened && live.info().live; });
  const bool complete_while_live = live.info().complete;
  ASSERT_EQ(write(go[1], &byte, 1), 1);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(seen_live) << live.info().error;
  EXPECT_FALSE(complete_while_live);
  ASSERT_TRUE(wait_for([&] { return !live.info().live; })) << live.info().error;
  EXPECT_TRUE(live.info().complete);
  EXPECT_EQ(live.info().sample_count, 2);
  EXPECT_TRUE(live.info().error.empty()) << live.info().error;
}

}  // namespace
