// Opening a file for reading (see read_access.h): the writer lock, the superblock's status flags, and the
// three ways to open (plain, SWMR after a killed writer, SWMR beside a live writer).
#include "core/store/read_access.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "core/store/schema.h"

namespace headscope::store {

using h5::Id;

bool writer_lock_held(const std::string& path) {
  const std::string lock_path = path + schema::kWriterLockSuffix;
  const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

namespace {

// The superblock's file consistency flags (version 3 superblocks, which SWMR needs): bit 0 "open for
// writing", bit 2 "open for SWMR writing". Reads the raw bytes, so it never enters HDF5.
constexpr unsigned char kSwmrWriteFlag = 0x04;

bool superblock_says_swmr_writing(const std::string& path) {
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char head[12] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t got = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  return got == static_cast<ssize_t>(sizeof head) && std::memcmp(head, signature, 8) == 0 && head[8] >= 3 &&
         (head[11] & kSwmrWriteFlag) != 0;
}

// H5Fopen read-only with file locking off (readers never block the writer; the writer has its own lock).
hid_t try_open(const std::string& path, bool swmr, unsigned attempts, std::string* error) {
  Id access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(access, false, true);
  if (swmr) H5Pset_metadata_read_attempts(access, attempts);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY | (swmr ? H5F_ACC_SWMR_READ : 0u), access);
  if (file < 0) {
    if (error && error->empty()) *error = h5::last_error_message();
    H5Eclear2(H5E_DEFAULT);
  }
  return file;
}

[[noreturn]] void fail(const std::string& path, const std::string& detail, const std::string& advice = "") {
  throw StoreError(path + ": cannot open it as an HDF5 file (truncated or corrupt?)" +
                   (detail.empty() ? std::string() : " (HDF5: " + detail + ")") + advice);
}

}  // namespace

OpenedFile open_for_reading(const std::string& path) {
  h5::quiet_errors();
  std::string error;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitForWriterMs);
  for (;;) {
    if (!writer_lock_held(path)) {
      if (hid_t file = try_open(path, false, 1, &error); file >= 0) return {Id(file), false};
      // A killed SWMR writer leaves the "open for SWMR writing" flag; only SWMR read mode opens that file.
      if (hid_t file = try_open(path, true, 1, nullptr); file >= 0) return {Id(file), true};
      fail(path, error, ". If a writer was killed while writing it: `headscope capture ... --resume` continues a capture "
                        "store; `h5clear -s " + path + "` clears HDF5's open-for-writing mark of any other");
    }
    // A live writer: once the file is in SWMR mode, read beside it with bounded retries. Before that
    // (creating its datasets, resuming, marking itself complete at the end) wait for it.
    if (superblock_says_swmr_writing(path)) {
      if (hid_t file = try_open(path, true, kLiveMetadataReadAttempts, &error); file >= 0) return {Id(file), true};
      if (writer_lock_held(path)) fail(path, error, "; a writer is still appending to it");
      continue;  // the writer finished meanwhile: open it as a finished file
    }
    if (std::chrono::steady_clock::now() >= deadline)
      fail(path, error, "; a writer holds it but has not made it readable in " + std::to_string(kWaitForWriterMs / 1000) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

OpenedFile open_master_for_reading(const std::string& path) {
  h5::quiet_errors();
  std::string error;
  if (hid_t file = try_open(path, true, kLiveMetadataReadAttempts, &error); file >= 0) return {Id(file), true};
  fail(path, error);
}

}  // namespace headscope::store
