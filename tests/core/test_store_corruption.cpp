// Damaged files: one flipped byte anywhere (superblock, object headers, attributes, B-trees, heaps, data
// chunks) or a truncation of a store, an IB result and a sweep result. Every read path (StoreReader and
// all its reads, analyze, inspect, the result readers) must succeed or throw StoreError within a bounded
// time: never hang (HDF5's SWMR retry loop once slept for hours), never crash, never std::bad_alloc. Each
// damaged file is read in a forked child with an alarm, so a hang fails the test instead of blocking ctest.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <new>

#include "core/analysis/store_analysis.h"
#include "core/store/h5.h"
#include "core/store/ib_file.h"
#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "core/store/sweep_file.h"
#include "core/store/writer.h"
#include "read_whole_store.h"
#include "result_file_data.h"
#include "store_test_data.h"
#include "test_support.h"

using namespace headscope;
using namespace headscope::store;

namespace {

constexpr unsigned kChildSeconds = 10;  // a hang guard only: a damaged file is read in milliseconds

// What the child's exit status says.
enum ChildExit { read_ok = 0, store_error = 1, bad_alloc = 2, other_exception = 3 };

// Starts `read` in a forked child under an alarm; the child's exit status says how it ended.
pid_t start_guarded(const std::function<void()>& read) {
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    alarm(kChildSeconds);
    int code = read_ok;
    try {
      read();
    } catch (const StoreError&) {
      code = store_error;
    } catch (const std::bad_alloc&) {
      code = bad_alloc;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "unexpected exception: %s\n", e.what());
      code = other_exception;
    }
    _exit(code);
  }
  return child;
}

// Waits for a child of start_guarded: "" when its read returned or threw StoreError, else what went
// wrong (a signal, a hang, another exception).
std::string finish_guarded(pid_t child) {
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status))
    return WTERMSIG(status) == SIGALRM ? "hung (killed after " + std::to_string(kChildSeconds) + " s)"
                                       : "died of signal " + std::to_string(WTERMSIG(status));
  const int code = WEXITSTATUS(status);
  if (code == read_ok || code == store_error) return "";
  return code == bad_alloc ? "std::bad_alloc" : "an exception other than StoreError";
}

std::string run_guarded(const std::function<void()>& read) { return finish_guarded(start_guarded(read)); }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Flips every bit of one byte at ~70 offsets (densest over the superblock, then over the first 4 KiB,
// where the root group, object headers and the global heap live; evenly over the rest: B-trees, chunks)
// and truncates at several lengths;
// reads each damaged copy in its own child, a few at a time, and returns a line per copy that was not
// read cleanly.
std::string damage_and_read(const std::string& original, const std::filesystem::path& dir,
                            const std::function<void(const std::string&)>& read) {
  const std::string bytes = read_bytes(original);
  std::vector<std::pair<std::string, std::string>> damaged;  // what was done, the bytes
  std::vector<std::size_t> offsets;
  for (std::size_t at = 0; at < 128; at += 9) offsets.push_back(at);
  for (std::size_t at = 128; at < 4096; at += 109) offsets.push_back(at);
  for (std::size_t at = 4096; at < bytes.size(); at += bytes.size() / 20 + 1) offsets.push_back(at);
  for (std::size_t at : offsets) {
    if (at >= bytes.size()) continue;
    std::string copy = bytes;
    copy[at] = static_cast<char>(~copy[at]);
    damaged.emplace_back("byte " + std::to_string(at) + " flipped", copy);
  }
  for (std::size_t length : {std::size_t{0}, std::size_t{8}, std::size_t{100}, bytes.size() / 4, bytes.size() / 2,
                             bytes.size() - bytes.size() / 8, bytes.size() - 1})
    damaged.emplace_back("truncated to " + std::to_string(length) + " bytes", bytes.substr(0, length));
  constexpr std::size_t kAtOnce = 4;
  std::string failures;
  for (std::size_t first = 0; first < damaged.size(); first += kAtOnce) {
    std::vector<pid_t> children;
    for (std::size_t i = first; i < std::min(damaged.size(), first + kAtOnce); ++i) {
      const std::string path = (dir / ("damaged" + std::to_string(i - first) + ".h5")).string();
      write_bytes(path, damaged[i].second);
      children.push_back(start_guarded([&read, path] { read(path); }));
    }
    for (std::size_t c = 0; c < children.size(); ++c) {
      const std::string problem = finish_guarded(children[c]);
      if (!problem.empty()) failures += damaged[first + c].first + ": " + problem + "\n";
    }
  }
  return failures;
}

}  // namespace

TEST(StoreCorruption, EveryDamagedStoreReadsOrFailsCleanly) {
  const auto dir = test::temp_dir();
  const std::string path = (dir / "store.h5").string();
  const auto layout = test::small_layout();
  {
    auto writer = StoreWriter::create(path, layout, {});
    for (int i = 0; i < 4; ++i) writer->append(test::make_sample(layout, i));
    writer->close();
  }
  ASSERT_EQ(run_guarded([&] { test::read_whole_store(path); }), "") << "the undamaged store reads";
  EXPECT_EQ(damage_and_read(path, dir, test::read_whole_store), "");
}

TEST(StoreCorruption, EveryDamagedIbFileReadsOrFailsCleanly) {
  const auto dir = test::temp_dir();
  const std::string path = (dir / "ib.h5").string();
  write_ib_file(path, test::small_ib((dir / "run.h5").string()));
  auto read = [](const std::string& file) {
    read_ib_file(file);
    inspect_text(file);
  };
  ASSERT_EQ(run_guarded([&] { read(path); }), "");
  EXPECT_EQ(damage_and_read(path, dir, read), "");
}

TEST(StoreCorruption, EveryDamagedSweepFileReadsOrFailsCleanly) {
  const auto dir = test::temp_dir();
  const std::string path = (dir / "sweep.h5").string();
  write_sweep_file(path, test::small_sweep(), false);
  auto read = [](const std::string& file) {
    read_sweep_file(file);
    inspect_text(file);
  };
  ASSERT_EQ(run_guarded([&] { read(path); }), "");
  EXPECT_EQ(damage_and_read(path, dir, read), "");
}

// A flipped byte in a compressed data chunk is a read error (each carries a checksum), not wrong values.
TEST(StoreCorruption, AFlippedChunkByteIsAnErrorNotAWrongValue) {
  const auto dir = test::temp_dir();
  const std::string path = (dir / "store.h5").string();
  const auto layout = test::small_layout();
  {
    auto writer = StoreWriter::create(path, layout, {});
    writer->append(test::make_sample(layout, 0));
    writer->close();
  }
  haddr_t chunk_address = 0;
  hsize_t chunk_bytes = 0;
  {
    h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    h5::Id metric = h5::open_dataset(file, "/metrics/entropy", path);
    h5::Id space(H5Dget_space(metric));
    unsigned filter_mask = 0;
    ASSERT_GE(H5Dget_chunk_info(metric, space, 0, nullptr, &filter_mask, &chunk_address, &chunk_bytes), 0);
  }
  std::string bytes = read_bytes(path);
  ASSERT_LT(chunk_address + chunk_bytes, bytes.size());
  bytes[chunk_address + chunk_bytes / 2] = static_cast<char>(~bytes[chunk_address + chunk_bytes / 2]);
  write_bytes(path, bytes);
  auto reader = StoreReader::open(path);
  EXPECT_THROW(reader->layer_slice("entropy", 0, 0), StoreError) << "the checksum catches the flipped byte";
}
