// Writes an IB run to an HDF5 file of kind "ib", readable by any HDF5 client: root attributes format,
// schema_version, kind, created, tool_version, command_line; group /ib with the bifurcation history, the
// β-grid curve, the AIB merge table, the elbow table, cluster summaries and per-step assignments, each
// dataset with `units` and `description` attributes. Layout in docs/ib.md.
#pragma once
#include <string>
#include <vector>

#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/anneal.h"
#include "core/analysis/ib/summary.h"

namespace headscope::analysis::ib {

struct IbRunRecord {
  std::string command_line;
  std::string input_source;
  std::string settings_json;                // the options used, as JSON
  std::vector<std::string> label_names;     // [Y]
  std::vector<int> labels;                  // [N]
  std::vector<int> step_cell;               // [N] k-means cell of each step
  std::vector<int> step_assignment;         // [N] final cluster index (hard)
  const AnnealResult* result = nullptr;
  std::vector<AibMerge> merges;
  std::vector<ElbowRow> elbow;
  std::vector<ClusterSummary> clusters;
};

// Throws std::runtime_error naming the file on failure; an existing file is replaced.
void write_ib_file(const std::string& path, const IbRunRecord& record);

}  // namespace headscope::analysis::ib
