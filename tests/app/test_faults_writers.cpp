// Faults injected into every writing command that needs no model (analyze, import, ib, export): a full disk
// (writes failing with EFBIG under RLIMIT_FSIZE) and a kill in the middle of a write (SIGXFSZ at the limit)
// must leave what was there byte for byte, no temporary behind and no crash; a file that a live writer holds
// (its writer lock) is never replaced, and nothing is replaced without --overwrite. tests/fault_support.h.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/ib_source_store_data.h"
#include "core/store/file_replace.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "core/store_test_data.h"
#include "fault_support.h"

namespace fs = std::filesystem;
namespace hs = headscope::store;
namespace ht = headscope::test;

namespace {

// A small complete capture-like store in `dir`: made once per test run (each headscope start costs about a
// second), copied for each test.
std::string demo_store(const fs::path& dir) {
  static const std::string made = [] {
    const auto folder = fs::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / ("faults-demo-" + std::to_string(getpid()));
    fs::create_directories(folder);
    const std::string path = (folder / "run.h5").string();
    const auto end = ht::run_child({"make-demo-store", path, "--layers", "2", "--heads", "3", "--samples", "6", "--tokens", "48"});
    EXPECT_TRUE(end.ok()) << end.err;
    return path;
  }();
  const std::string path = (dir / "run.h5").string();
  fs::copy_file(made, path, fs::copy_options::overwrite_existing);
  return path;
}

long long size_of(const std::string& path) { return static_cast<long long>(fs::file_size(path)); }

// The points where a write is stopped: inside the copy of the store, just past it, further into /analysis.
std::vector<long long> limits_around(long long size) { return {size / 2, size + 100, size + 3000}; }

void expect_untouched(const std::string& path, const std::string& bytes, const std::string& what) {
  EXPECT_EQ(ht::file_bytes(path), bytes) << what << ": " << path << " changed";
  EXPECT_TRUE(ht::files_containing(fs::path(path).parent_path(), ".tmp-").empty()) << what << ": a temporary is left";
}

}  // namespace

TEST(FaultsAnalyze, AFullDiskLeavesTheStoreAsItWasAndExitsCleanly) {
  const auto dir = ht::temp_dir();
  const std::string store = demo_store(dir), before = ht::file_bytes(store);
  for (long long limit : limits_around(size_of(store))) {
    const auto end = ht::run_child({"analyze", store}, limit, ht::AtFileLimit::writes_fail);
    EXPECT_TRUE(end.exited) << "limit " << limit << ": killed by signal " << end.code << "\n" << end.err;
    EXPECT_EQ(end.code, 1) << "limit " << limit << "\n" << end.err;
    expect_untouched(store, before, "limit " + std::to_string(limit));
  }
  EXPECT_TRUE(ht::run_child({"analyze", store}).ok());  // with room it writes, and the store still reads
  EXPECT_NE(ht::file_bytes(store), before);
  EXPECT_EQ(hs::StoreReader::open(store)->sample_count(), 6);
}

TEST(FaultsAnalyze, AKillMidWriteLeavesTheStoreReadable) {
  const auto dir = ht::temp_dir();
  const std::string store = demo_store(dir), before = ht::file_bytes(store);
  for (long long limit : limits_around(size_of(store))) {
    const auto end = ht::run_child({"analyze", store}, limit, ht::AtFileLimit::killed);
    EXPECT_FALSE(end.exited) << "limit " << limit << ": the write was not interrupted\n" << end.err;
    EXPECT_EQ(ht::file_bytes(store), before) << "limit " << limit;
    EXPECT_EQ(hs::StoreReader::open(store)->sample_count(), 6);
  }
}

TEST(FaultsAnalyze, RefusesAStoreALiveWriterHolds) {
  const auto dir = ht::temp_dir();
  const std::string store = demo_store(dir), before = ht::file_bytes(store);
  {
    hs::WriterLock live(store);
    EXPECT_EQ(ht::run_child({"analyze", store}).code, 1);
  }
  expect_untouched(store, before, "analyze of a live store");
  EXPECT_TRUE(ht::run_child({"analyze", store}).ok());
}

TEST(FaultsAnalyze, RefusesAReadOnlyStore) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes read-only files";
  const auto dir = ht::temp_dir();
  const std::string store = demo_store(dir), before = ht::file_bytes(store);
  chmod(store.c_str(), 0444);
  const auto end = ht::run_child({"analyze", store});
  EXPECT_EQ(end.code, 1);
  EXPECT_NE(end.err.find("read-only"), std::string::npos) << end.err;
  expect_untouched(store, before, "analyze of a read-only store");
}

TEST(FaultsImport, AFullDiskOrAKillLeavesTheOldStore) {
  HEADSCOPE_REQUIRE_PATH(ht::fixtures_dir() / ".." / ".." / "samples" / "imports" / "jsd");
  const auto dir = ht::temp_dir();
  const std::string jsd = (ht::fixtures_dir() / ".." / ".." / "samples" / "imports" / "jsd").string();
  const std::string store = demo_store(dir), before = ht::file_bytes(store);
  for (const auto at_limit : {ht::AtFileLimit::writes_fail, ht::AtFileLimit::killed})
    for (long long limit : {20000LL}) {
      const auto end = ht::run_child({"import", "jsd", jsd, "--out", store, "--overwrite", "--quiet"}, limit, at_limit);
      EXPECT_FALSE(end.ok()) << "limit " << limit;
      if (at_limit == ht::AtFileLimit::writes_fail) {
        EXPECT_TRUE(end.exited) << "crashed with signal " << end.code << "\n" << end.err;
      }
      EXPECT_EQ(ht::file_bytes(store), before) << "limit " << limit;
    }
  EXPECT_TRUE(ht::run_child({"import", "jsd", jsd, "--out", store, "--overwrite", "--quiet"}).ok());
}

TEST(FaultsImport, NeverReplacesALiveStoreOrWithoutOverwrite) {
  HEADSCOPE_REQUIRE_PATH(ht::fixtures_dir() / ".." / ".." / "samples" / "imports" / "jsd");
  const auto dir = ht::temp_dir();
  const std::string jsd = (ht::fixtures_dir() / ".." / ".." / "samples" / "imports" / "jsd").string();
  const std::string store = demo_store(dir), before = ht::file_bytes(store);
  EXPECT_EQ(ht::run_child({"import", "jsd", jsd, "--out", store, "--quiet"}).code, 1);
  {
    hs::WriterLock live(store);
    EXPECT_EQ(ht::run_child({"import", "jsd", jsd, "--out", store, "--overwrite", "--quiet"}).code, 1);
  }
  expect_untouched(store, before, "import over a live store");
  // --overwrite replaces stores only, never another kind of file.
  const auto notes = (dir / "notes.txt").string();
  std::ofstream(notes) << "my notes\n";
  EXPECT_EQ(ht::run_child({"import", "jsd", jsd, "--out", notes, "--overwrite", "--quiet"}).code, 1);
  EXPECT_EQ(ht::file_bytes(notes), "my notes\n");
}

TEST(FaultsIb, ReplacesOnlyWithOverwriteAndNeverALiveFile) {
  const auto dir = ht::temp_dir();
  const std::string input = ht::write_ib_source_store(dir / "steps.h5"), out = (dir / "ib.h5").string();
  const std::vector<std::string> ib{"ib", "--embeddings", input, "--out", out, "--cells", "2", "--min-size", "1",
                                    "--beta-max", "50", "--quiet"};
  ASSERT_TRUE(ht::run_child(ib).ok());
  const std::string before = ht::file_bytes(out);
  EXPECT_EQ(ht::run_child(ib).code, 1);  // exists, no --overwrite
  auto overwrite = ib;
  overwrite.push_back("--overwrite");
  {
    hs::WriterLock live(out);
    EXPECT_EQ(ht::run_child(overwrite).code, 1);
  }
  expect_untouched(out, before, "ib over a live file");
  for (const auto at_limit : {ht::AtFileLimit::writes_fail, ht::AtFileLimit::killed}) {
    EXPECT_FALSE(ht::run_child(overwrite, 3000, at_limit).ok());
    EXPECT_EQ(ht::file_bytes(out), before);
  }
  EXPECT_TRUE(ht::run_child(overwrite).ok());
}

TEST(FaultsExport, AFullDiskOrAKillKeepsTheOldFigure) {
  if (ht::run_child({"--help"}).err.find("  export ") == std::string::npos) GTEST_SKIP() << "built without the GUI: no export";
  const auto dir = ht::temp_dir();
  const std::string store = demo_store(dir);
  for (const std::string extension : {"png"}) {  // every format goes through the same write_file
    const std::string figure = (dir / ("grid." + extension)).string();
    std::ofstream(figure) << "the old figure";
    for (const auto at_limit : {ht::AtFileLimit::writes_fail, ht::AtFileLimit::killed}) {
      const auto end = ht::run_child({"export", "--run", store, "--view", "head-grid", "--out", figure}, 1000, at_limit);
      EXPECT_FALSE(end.ok()) << extension;
      if (at_limit == ht::AtFileLimit::writes_fail) {
        EXPECT_EQ(end.code, 1) << end.err;
      }
      EXPECT_EQ(ht::file_bytes(figure), "the old figure") << extension;
    }
    const auto end = ht::run_child({"export", "--run", store, "--view", "head-grid", "--out", figure});
    EXPECT_TRUE(end.ok()) << end.err;
    EXPECT_GT(fs::file_size(figure), 1000u);
    EXPECT_TRUE(ht::files_containing(dir, ".tmp-").empty());
  }
}

TEST(FaultsStoreWriter, AHeadPinnedTwiceIsRefusedBeforeAnyFileExists) {
  const auto path = (ht::temp_dir() / "pins.h5").string();
  auto layout = ht::small_layout();
  layout.pinned_heads = {{1, 0}, {1, 0}};
  EXPECT_THROW(hs::StoreWriter::create(path, layout, {}), hs::StoreError);
  EXPECT_FALSE(fs::exists(path));
}
