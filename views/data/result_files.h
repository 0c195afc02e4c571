// The small result files the views open — sweeps (kind "sweep", group /sweep; docs/store-format.md "Sweep
// files") and Information-Bottleneck runs (kind "ib", group /ib; docs/ib.md) — as core/store reads them
// (sweep_file.h, ib_file.h), under the names the views use, and opened by kind. Read once, whole;
// read-only after. Errors name the file and say what kind it is when it is not the kind asked for.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/store/ib_file.h"
#include "core/store/sweep_file.h"

namespace headscope::views {

// A sweep file as core/store reads it: the views draw from the store's own struct.
inline constexpr int kSweepMetrics = store::kSweepMetricCount;  // 0 entropy, 1 max_attention, 2 k90
inline const char* sweep_metric_file_name(int metric) { return store::sweep_metric_name(metric); }
using SweepCheck = store::SweepCheck;
using SweepData = store::SweepFile;

// An ib file as core/store reads it.
using IbEvent = store::IbEvent;
using IbCluster = store::IbCluster;
using IbData = store::IbFile;

// The root `kind` attribute of a headscope HDF5 file ("capture", "sweep", "ib", "import"), or "" when the
// file has none. Throws std::runtime_error naming the file when it cannot be opened as HDF5.
std::string headscope_file_kind(const std::string& path);
// True for the kinds these readers serve (a sweep with a /sweep group, or an ib run).
bool is_result_file(const std::string& path);

// Throw std::runtime_error naming the file: not HDF5, another kind, a gain-scan file, a missing dataset.
using store::read_sweep_file;
using store::read_ib_file;

class IbSourceData;  // views/data/ib_source_data.h

// Either of the two, by the file's kind.
struct ResultFile {
  std::string path, kind;  // kind: "sweep" or "ib"
  std::shared_ptr<const SweepData> sweep;
  std::shared_ptr<const IbData> ib;
  std::shared_ptr<IbSourceData> ib_source;  // ib: the capture store behind it, opened on first use
};
// `background`: the ib file's source store is read on a thread of its own (the window) rather than by
// the calls that need it (export, tests).
ResultFile open_result_file(const std::string& path, bool background = false);

}  // namespace headscope::views
