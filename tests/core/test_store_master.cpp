// The master of a sharded run (core/store/master.h): virtual datasets over shard files read as one store,
// sample by sample equal to one file of the same samples; rebuilt while shards grow, a live reader picks
// up the new master; a missing shard is a clear error to readers and a line in inspect; shards of other
// runs are refused. Also the balanced split of samples among shards (core/util/shares.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "core/store/inspect.h"
#include "core/store/master.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "core/util/shares.h"
#include "shard_test_data.h"
#include "store_equality.h"
#include "store_test_data.h"
#include "test_support.h"

namespace hs = headscope;
using hs::store::StoreError;
using hs::store::StoreReader;
using hs::store::StoreWriter;

using hs::test::shard_paths;
using hs::test::shard_provenance;
using hs::test::write_samples;

TEST(ShardShares, ContiguousBalancedAndCovering) {
  const std::vector<std::int64_t> weights{100, 1, 1, 1, 1, 100, 50, 50};
  const auto bounds = hs::util::balanced_shares(weights, 3);
  ASSERT_EQ(bounds.size(), 4u);
  EXPECT_EQ(bounds.front(), 0);
  EXPECT_EQ(bounds.back(), 8);
  for (std::size_t k = 1; k < bounds.size(); ++k) EXPECT_LE(bounds[k - 1], bounds[k]);
  // Total 304: each share's weight within one item of 304 / 3.
  for (int k = 0; k < 3; ++k) {
    std::int64_t sum = 0;
    for (auto i = bounds[k]; i < bounds[k + 1]; ++i) sum += weights[static_cast<std::size_t>(i)];
    EXPECT_NEAR(static_cast<double>(sum), 304.0 / 3, 100.0) << "share " << k;
  }
  // More shards than samples: some shares are empty, none is lost.
  const auto sparse = hs::util::balanced_shares({5, 5}, 4);
  EXPECT_EQ(sparse.front(), 0);
  EXPECT_EQ(sparse.back(), 2);
  const auto equal = hs::util::balanced_shares(std::vector<std::int64_t>(60, 7), 3);
  EXPECT_EQ(equal, (std::vector<std::int64_t>{0, 20, 40, 60}));
}

TEST(ShardShares, ParsesIndexOfCount) {
  EXPECT_EQ(hs::util::parse_shard("2/5")->index, 2);
  EXPECT_EQ(hs::util::parse_shard("2/5")->count, 5);
  for (const char* bad : {"5/5", "-1/3", "1/0", "a/3", "1/", "/3", "13", "1/3/4", "99999999/100000000"})
    EXPECT_FALSE(hs::util::parse_shard(bad).has_value()) << bad;
}

TEST(StoreMaster, ShardsReadAsOneStoreEqualToOneFile) {
  const auto dir = hs::test::temp_dir();
  write_samples((dir / "single.h5").string(), 0, 9, 0, 0);
  const auto shards = shard_paths(dir, 3);
  write_samples(shards[0], 0, 2, 0, 3);
  write_samples(shards[1], 2, 7, 1, 3);
  write_samples(shards[2], 7, 9, 2, 3);
  const auto info = hs::store::build_master((dir / "run.h5").string(), shards, "merge");
  EXPECT_TRUE(info.complete);
  EXPECT_EQ(info.samples, 9);
  const auto single = StoreReader::open((dir / "single.h5").string());
  const auto master = StoreReader::open((dir / "run.h5").string());
  EXPECT_TRUE(master->complete());
  hs::test::expect_same_run(*single, *master);
  // A second reader of the master in this process (the workbench's recompute thread beside its live view)
  // reads the same, and the first still does after it.
  std::thread second([&] { hs::test::expect_same_run(*single, *StoreReader::open((dir / "run.h5").string())); });
  second.join();
  hs::test::expect_same_run(*single, *master);
  // The master names its shards relative to itself: it reads the same from another folder's view.
  std::filesystem::create_directories(dir / "moved");
  for (const auto& name : {std::string("run.h5"), std::string("run.shard-0-of-3.h5"), std::string("run.shard-1-of-3.h5"),
                           std::string("run.shard-2-of-3.h5")})
    std::filesystem::copy_file(dir / name, dir / "moved" / name);
  const auto moved = StoreReader::open((dir / "moved" / "run.h5").string());
  hs::test::expect_same_run(*single, *moved);
}

namespace {
// One byte through a pipe: the two processes take turns, no sleeps.
void signal_turn(int fd) { ASSERT_EQ(::write(fd, "x", 1), 1); }
void wait_turn(int fd) {
  char byte;
  ASSERT_EQ(::read(fd, &byte, 1), 1);
}
}  // namespace

TEST(StoreMaster, RebuiltWhileShardsGrowALiveReaderPicksItUp) {
  const auto dir = hs::test::temp_dir();
  const auto shards = shard_paths(dir, 2);
  const auto layout = hs::test::small_layout();
  const std::string master_path = (dir / "run.h5").string();
  write_samples(shards[0], 0, 3, 0, 2);
  int to_child[2], to_parent[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(to_parent), 0);
  const pid_t child = fork();
  if (child == 0) {  // shard 1's rank: one sample, then three more when told, then done
    ::close(to_child[1]);
    ::close(to_parent[0]);
    try {
      auto writer = StoreWriter::create(shards[1], layout, shard_provenance(1, 2, 4));
      writer->append(hs::test::make_sample(layout, 3));
      signal_turn(to_parent[1]);
      wait_turn(to_child[0]);
      for (int i = 4; i < 7; ++i) writer->append(hs::test::make_sample(layout, i));
      signal_turn(to_parent[1]);
      wait_turn(to_child[0]);
      writer->close(true);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "shard writer: %s\n", e.what());
      _exit(1);
    }
    _exit(0);
  }
  ::close(to_child[0]);
  ::close(to_parent[1]);  // a child that dies closes its end: the parent reads EOF instead of waiting forever
  wait_turn(to_parent[0]);
  const auto info = hs::store::build_master(master_path, shards, "capture");
  EXPECT_FALSE(info.complete);
  EXPECT_EQ(info.samples, 4);
  auto reader = StoreReader::open(master_path);
  EXPECT_EQ(reader->sample_count(), 4);
  EXPECT_TRUE(reader->live());
  EXPECT_FALSE(reader->appends_only());  // shard order: a live view re-reads its sample list (live_run_data.cpp)
  EXPECT_FALSE(reader->refresh());  // not rebuilt yet
  signal_turn(to_child[1]);
  wait_turn(to_parent[0]);
  // Rebuilt by another process, as MPI rank 0 does: this process's handles of the shards stay as they were.
  const pid_t builder = fork();
  if (builder == 0) {
    try {
      const auto rebuilt = hs::store::build_master(master_path, shards, "capture");
      _exit(rebuilt.samples == 7 && !rebuilt.complete ? 0 : 2);  // shard 1 is still being written
    } catch (...) {
      _exit(1);
    }
  }
  int built = 0;
  ASSERT_EQ(waitpid(builder, &built, 0), builder);
  ASSERT_TRUE(WIFEXITED(built) && WEXITSTATUS(built) == 0) << "rebuilding the master failed";
  EXPECT_TRUE(reader->refresh());
  EXPECT_EQ(reader->sample_count(), 7);
  EXPECT_EQ(reader->sample(6).id, "sample-6");
  // Every array of the new rows reads, through shards the old master had open (their metadata then older).
  write_samples((dir / "single.h5").string(), 0, 7, 0, 0);
  hs::test::expect_same_run(*StoreReader::open((dir / "single.h5").string()), *reader);
  signal_turn(to_child[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(reader->live());
  reader.reset();  // its SWMR view of the shard is the running writer's: a finished one is read afresh
  EXPECT_TRUE(hs::store::build_master(master_path, shards, "capture").complete);
  hs::test::expect_same_run(*StoreReader::open((dir / "single.h5").string()), *StoreReader::open(master_path));
}

TEST(StoreMaster, AShardNotStartedYetMapsNothingAndAMissingOneIsReported) {
  const auto dir = hs::test::temp_dir();
  const auto shards = shard_paths(dir, 3);
  const std::string master_path = (dir / "run.h5").string();
  write_samples(shards[0], 0, 3, 0, 3);
  write_samples(shards[2], 5, 8, 2, 3);
  auto info = hs::store::build_master(master_path, shards, "capture");  // shard 1's rank has not started
  EXPECT_EQ(info.samples, 6);
  EXPECT_FALSE(info.complete);
  {
    const auto reader = StoreReader::open(master_path);
    EXPECT_EQ(reader->sample(3).id, "sample-5");
    EXPECT_FALSE(reader->complete());
  }
  // A shard the master maps, gone: readers refuse it by name; inspect still lists every shard.
  std::filesystem::rename(shards[2], dir / "elsewhere.h5");
  try {
    StoreReader::open(master_path);
    FAIL() << "a master whose shard is missing opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("run.shard-2-of-3.h5"), std::string::npos) << e.what();
  }
  const auto listed = hs::store::read_master(master_path);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->shards.size(), 3u);
  EXPECT_FALSE(listed->shards[1].exists);
  EXPECT_FALSE(listed->shards[2].exists);
  EXPECT_TRUE(listed->shards[0].complete);
  EXPECT_FALSE(listed->complete);
  const auto report = hs::store::inspect_json(master_path);
  EXPECT_EQ(report["shards"][2]["state"], "missing");
}

TEST(StoreMaster, RefusesShardsOfAnotherRunOrPlace) {
  const auto dir = hs::test::temp_dir();
  const auto shards = shard_paths(dir, 2);
  write_samples(shards[0], 0, 2, 0, 2);
  write_samples(shards[1], 2, 4, 0, 2);  // records place 0, given as 1
  EXPECT_THROW(hs::store::build_master((dir / "run.h5").string(), shards, "merge"), StoreError);
  write_samples(shards[1], 2, 4, 1, 3);  // one of 3, given as one of 2
  EXPECT_THROW(hs::store::build_master((dir / "run.h5").string(), shards, "merge"), StoreError);
  write_samples((dir / "plain.h5").string(), 0, 2, 0, 0);  // not a shard at all
  EXPECT_THROW(hs::store::build_master((dir / "run.h5").string(), {(dir / "plain.h5").string(), shards[1]}, "merge"), StoreError);
  // Another layout: float32 metrics.
  auto layout = hs::test::small_layout(hs::store::ValueType::float32);
  auto writer = StoreWriter::create(shards[1], layout, shard_provenance(1, 2, 1), true);
  writer->append(hs::test::make_sample(layout, 2));
  writer->close(true);
  EXPECT_THROW(hs::store::build_master((dir / "run.h5").string(), shards, "merge"), StoreError);
  EXPECT_FALSE(std::filesystem::exists(dir / "run.h5"));  // nothing half-written
}
