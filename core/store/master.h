// One run spread over shard files (one per MPI rank or array job, each an ordinary SWMR capture store)
// read as one store: the master OUT.h5 holds every capture dataset as an HDF5 virtual dataset (VDS) over
// the shards' committed rows, in shard order, so h5py, xarray and every HeadScope reader open one run.
// Only the columns whose values are offsets on another axis (schema_table.h offset_columns) are stored
// rebased. Building is cheap (mappings plus those columns), atomic (a temporary renamed over OUT) and can
// be repeated while the shards grow: a live MPI capture rebuilds it every few seconds, `merge` once.
// docs/scale-out.md describes the layout for readers without HeadScope.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::store {

// "run.h5", 1, 3 -> "run.shard-1-of-3.h5" (beside the master).
std::string shard_path(const std::string& master_path, int index, int count);

// What a shard records of its place in the run (the "shard" object of its /run/settings_json).
struct ShardPlace {
  int index = 0, count = 1;
  std::int64_t planned_samples = -1;  // the samples of its share; -1: not recorded
};
// nullopt for a store that is not a shard.
std::optional<ShardPlace> shard_place(const Provenance& provenance, const std::string& path);

// One shard as a master records it, with what its file says now.
struct ShardState {
  ShardPlace place;
  std::string file;                    // as the master names it: relative to the master's folder
  std::string path;                    // resolved
  std::int64_t mapped_samples = 0;     // rows the master maps
  bool exists = false, live = false, complete = false;
  std::int64_t committed_samples = 0;  // in the shard file now (0 when it cannot be read)
  std::string problem;                 // why it could not be read, or ""
  // The master maps every sample of its share (true when the share's size was not recorded).
  bool wholly_mapped() const { return place.planned_samples < 0 || place.planned_samples == mapped_samples; }
  // Complete, readable and wholly mapped: what a complete master needs of each shard.
  bool done() const { return exists && complete && problem.empty() && wholly_mapped(); }
};

struct MasterInfo {
  std::vector<ShardState> shards;  // in shard order
  std::int64_t samples = 0;        // mapped in the master
  bool complete = false;           // every shard exists, is complete and is wholly mapped
};

// Builds (or rebuilds) `master_path` over `shard_paths` (shard i of shard_paths.size() at [i]). Shards
// whose file does not exist yet map no rows (a live capture's ranks start at different times); at least
// one must exist. Throws StoreError naming the shard that is not a HeadScope capture store, records
// another place in the run, or differs from shard 0 in model, settings or layout. `command_line` is the
// master's own (merge's, or the capture's).
MasterInfo build_master(const std::string& master_path, const std::vector<std::string>& shard_paths,
                        const std::string& command_line);

// Whether an open file is a master (root attribute shard_count).
bool is_master(hid_t file);
// The master's record of its shards, with each shard file's state read now; nullopt when `master_path`
// is not a master. Throws StoreError when the file or its record cannot be read.
std::optional<MasterInfo> read_master(const std::string& master_path);
// The record alone, from an open master (no shard file is opened): file, place and mapped rows.
std::vector<ShardState> master_shards(hid_t file, const std::string& master_path);

}  // namespace headscope::store
