// Writing a file without ever damaging what is there, shared by every writer (capture, import, sweep, ib,
// analyze, figure export): the writer lock that marks a live writer ("<file>.writer-lock", flock), the
// checks made before anything is created, and the temporary sibling that is fsynced and renamed over the
// target only once it is whole (removed on any failure). docs/reliability.md says what this promises.
#pragma once
#include <string>

#include "core/store/layout.h"  // StoreError, which everything here throws

namespace headscope::store {

// An exclusive flock on "<path>.writer-lock" held while a writer runs (schema.h). Readers and other writers
// test it (read_access.h's writer_lock_held): held means a live process is writing `path`.
class WriterLock {
 public:
  // Throws StoreError naming `path` when another process holds it.
  explicit WriterLock(const std::string& path);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  void release();

 private:
  std::string lock_path_;
  int fd_ = -1;
};

// Before creating anything: throws StoreError when `path` exists and `overwrite` is false, when it exists
// but is not a regular HDF5 file (a prompt set, a model file: --overwrite replaces only stores), or when a
// live writer holds it. `overwrite_flag` names the option in the message (e.g. "--overwrite").
void check_replaceable(const std::string& path, bool overwrite, const std::string& overwrite_flag = "--overwrite");

// "<path>.tmp-<pid>": the sibling a writer builds before it replaces `path` (same folder, so rename is atomic).
std::string temp_sibling(const std::string& path);

// Removes its file when destroyed unless commit() renamed it over the target: a failed writer leaves no
// temporary behind and the target untouched.
class TempSibling {
 public:
  // path() is temp_sibling(target). Removes the temporaries of killed writers of `target` (their pid gone).
  explicit TempSibling(std::string target);
  ~TempSibling();
  TempSibling(const TempSibling&) = delete;
  TempSibling& operator=(const TempSibling&) = delete;
  const std::string& path() const { return path_; }
  // fsync the temporary, rename it over the target, fsync the folder. Throws StoreError (the target is
  // then what it was; the temporary is removed by the destructor).
  void commit();

 private:
  std::string target_, path_;
  bool committed_ = false;
};

// fsync `path`'s bytes, rename it over `target`, fsync the folder. Throws StoreError naming both.
void rename_durably(const std::string& path, const std::string& target);

// Writes `bytes` to `path` through a temporary sibling (figures, small text files): `path` is either its
// old content or the new one, never a truncated mix. Throws StoreError (e.g. on a full disk).
void write_file_replacing(const std::string& path, const std::string& bytes);

// "<what>: <strerror>" of the current errno, e.g. "No space left on device".
std::string errno_text();

}  // namespace headscope::store
