// How every HeadScope reader opens a file (stores, sweep, ib and analysis results, inspect): read-only,
// never blocking a writer, and never hanging on damaged bytes. HDF5's single-writer/multiple-reader
// read mode retries a metadata read whose checksum fails up to 100 times with a doubling sleep (hours on
// one flipped byte), so a file no live writer holds is opened without it, and a live one with few retries.
#pragma once
#include <string>

#include "core/store/h5.h"

namespace headscope::store {

// Whether a live writer holds "<path>.writer-lock" (schema.h; writer.cpp takes it for its whole run).
bool writer_lock_held(const std::string& path);

// Metadata read attempts of a live (SWMR) read: HDF5's backoff makes 28 tries about 0.3 s per damaged item.
inline constexpr unsigned kLiveMetadataReadAttempts = 28;
// How long an opening reader waits for a writer that holds the lock to switch the file to SWMR mode.
inline constexpr int kWaitForWriterMs = 20000;

struct OpenedFile {
  h5::Id file;
  bool swmr = false;  // opened in SWMR read mode: a writer was live (or had been killed mid-run)
};

// Opens `path` read-only. With no live writer: a plain read-only open; a file whose writer was killed
// still says "open for SWMR writing", so that one is read in SWMR mode with a single read attempt. With
// a live writer: waits (at most kWaitForWriterMs) until the writer has put the file in SWMR mode, then
// reads in SWMR mode with kLiveMetadataReadAttempts. Throws StoreError "<path>: cannot open it as an HDF5
// file ..." when nothing works. Does not check the HDF5 signature (callers say what they expected).
OpenedFile open_for_reading(const std::string& path);
// A master over shard files (master.h), or one of its shards, in SWMR read mode, whoever writes it
// (a file needs a version-3 superblock, which every HeadScope store has): HDF5 opens a virtual
// dataset's source files in the mode of the file that holds it, and a shard that a live (or killed) writer
// has open for SWMR writing opens only so; opened plainly its rows would read as fill values.
OpenedFile open_master_for_reading(const std::string& path);

}  // namespace headscope::store
