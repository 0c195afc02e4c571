// Safe replacement of files (see file_replace.h): POSIX flock, fsync and rename.
#include "core/store/file_replace.h"

#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/store/h5.h"
#include "core/store/layout.h"
#include "core/store/read_access.h"
#include "core/store/schema.h"

namespace headscope::store {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

WriterLock::WriterLock(const std::string& path) : lock_path_(path + schema::kWriterLockSuffix) {
  // A writer that finishes unlinks the lock file. A process that opened it just before then would lock an
  // inode no path names any more while a third creates and locks a new one: both would think they hold the
  // lock. So the lock counts only if the path still names the locked inode; otherwise try again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(lock_path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) throw StoreError(path + ": cannot create the writer lock " + lock_path_ + " (" + errno_text() + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw StoreError(path + ": another process is writing this file (it holds " + lock_path_ + ")");
    }
    struct stat locked {}, named {};
    if (::fstat(fd_, &locked) == 0 && ::stat(lock_path_.c_str(), &named) == 0 && locked.st_dev == named.st_dev &&
        locked.st_ino == named.st_ino)
      return;
    ::close(fd_);  // the lock file was replaced under us: lock the one its path names now
    fd_ = -1;
  }
  throw StoreError(path + ": cannot take the writer lock " + lock_path_ + " (it keeps being replaced)");
}

WriterLock::~WriterLock() { release(); }

void WriterLock::release() {
  if (fd_ >= 0) {
    ::unlink(lock_path_.c_str());
    ::close(fd_);
    fd_ = -1;
  }
}

void check_replaceable(const std::string& path, bool overwrite, const std::string& overwrite_flag) {
  if (writer_lock_held(path))
    throw StoreError(path + ": a live process is writing this file (it holds " + path + schema::kWriterLockSuffix +
                     "); wait for it to finish or stop it first");
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) return;
  if (!overwrite) throw StoreError(path + ": file exists (pass " + overwrite_flag + " to replace it, or choose another name)");
  h5::quiet_errors();
  if (!fs::is_regular_file(status) || H5Fis_hdf5(path.c_str()) <= 0)
    throw StoreError(path + ": exists and is not an HDF5 file; " + overwrite_flag +
                     " replaces only HeadScope files (is --out a typo for one of the inputs?)");
}

std::string temp_sibling(const std::string& path) { return path + ".tmp-" + std::to_string(::getpid()); }

static void fsync_path(const std::string& path, int flags, const std::string& what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw StoreError(path + ": cannot open to sync " + what + " (" + errno_text() + ")");
  const int status = ::fsync(fd);
  const std::string message = status != 0 ? errno_text() : "";
  ::close(fd);
  if (status != 0) throw StoreError(path + ": cannot sync " + what + " to disk (" + message + ")");
}

void rename_durably(const std::string& path, const std::string& target) {
  fsync_path(path, O_RDONLY, "the new file");
  if (::rename(path.c_str(), target.c_str()) != 0)
    throw StoreError(target + ": cannot rename " + path + " over it (" + errno_text() + ")");
  const fs::path folder = fs::path(target).parent_path();
  try {
    fsync_path(folder.empty() ? "." : folder.string(), O_RDONLY | O_DIRECTORY, "the folder");
  } catch (const StoreError&) {  // the rename is done; a folder that cannot be synced is not worth failing for
  }
}

// Temporaries that killed writers of `target` left ("<target>.tmp-<pid>" of a process that is gone).
static void remove_stale_temporaries(const std::string& target) {
  const fs::path folder = fs::path(target).parent_path().empty() ? fs::path(".") : fs::path(target).parent_path();
  const std::string prefix = fs::path(target).filename().string() + ".tmp-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size(), name.find('.', prefix.size()) - prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

TempSibling::TempSibling(std::string target) : target_(std::move(target)), path_(temp_sibling(target_)) {
  remove_stale_temporaries(target_);
  std::error_code ec;
  fs::remove(path_, ec);
}

TempSibling::~TempSibling() {
  if (committed_) return;
  std::error_code ec;
  fs::remove(path_, ec);
  fs::remove(path_ + schema::kWriterLockSuffix, ec);
}

void TempSibling::commit() {
  rename_durably(path_, target_);
  committed_ = true;
}

void write_file_replacing(const std::string& path, const std::string& bytes) {
  TempSibling temp(path);
  const int fd = ::open(temp.path().c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError(path + ": cannot create " + temp.path() + " (" + errno_text() + ")");
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string message = n < 0 ? errno_text() : "wrote nothing";
      ::close(fd);
      throw StoreError(path + ": cannot write (" + message + "); the old file, if any, is unchanged");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw StoreError(path + ": cannot write (" + errno_text() + ")");
  temp.commit();
}

}  // namespace headscope::store
