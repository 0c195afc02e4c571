// StoreWriter: creates a HeadScope store and appends one sample at a time in HDF5 single-writer /
// multiple-reader (SWMR) mode, so another process can watch the file grow and a killed writer leaves
// every completed sample readable. `resume` reopens such a file and continues after the last complete
// sample. Memory stays flat: nothing is kept per sample after append() returns.
#pragma once
#include <memory>
#include <string>

#include "core/store/layout.h"

namespace headscope::store {

class StoreWriter {
 public:
  // Creates `path` (replacing nothing: an existing file is an error unless overwrite is set).
  static std::unique_ptr<StoreWriter> create(const std::string& path, const StoreLayout& layout,
                                             const Provenance& provenance, bool overwrite = false);
  // Reopens a store left by an earlier (possibly killed) writer; appends continue after its last
  // complete sample. Throws StoreError if the file is not a HeadScope store of this schema.
  static std::unique_ptr<StoreWriter> resume(const std::string& path);

  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Validates the record against the layout (throws StoreError, writing nothing), writes it, flushes.
  // The sample becomes visible to readers only once all its arrays are on disk.
  void append(const SampleRecord& sample);

  std::int64_t sample_count() const;
  std::int64_t token_count() const;
  const StoreLayout& layout() const;
  const std::string& path() const;
  // Ids of the samples already stored (so a resumed capture skips them).
  std::vector<std::string> sample_ids() const;
  // What the file records of the run that made it (/model, /run/settings_json): a resumed capture checks
  // it against its own. Throws StoreError.
  Provenance provenance() const;

  // Flushes and closes. `complete` marks the file complete (the `complete` root attribute becomes 1): pass
  // false for a run that stopped early (cancelled, an input error), which leaves a store `resume` continues.
  void close(bool complete = true);
  // After a failed write (a full disk): lets go of the file without another HDF5 call on it, as a killed
  // writer would, since closing a file whose writes failed can crash inside HDF5. Every committed sample
  // stays readable and `resume` continues the file once there is space.
  void abandon();

  struct Impl;  // opaque; public only so the .cpp's helpers can name it

 private:
  explicit StoreWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace headscope::store
