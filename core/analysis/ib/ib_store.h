// Writes an IB run to an HDF5 file of kind "ib", readable by any HDF5 client: root attributes format,
// schema_version, kind, created, tool_version, command_line; group /ib with the bifurcation history, the
// β-grid curve, the AIB merge table, the elbow table, cluster summaries, per-step assignments and, for
// steps from a capture store, where each step came from; each dataset with `units` and `description`
// attributes. Layout in docs/ib.md.
#pragma once
#include <cstdint>
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
  std::vector<double> step_membership;      // [N] q(t|x) of that cluster; empty: not written
  // Provenance of the steps when they came from a capture store (empty source_store: none, as for a plain
  // embeddings file): written to /ib/source with the store's path absolute and relative to the output.
  std::string source_store, source_store_created;
  std::vector<std::int64_t> step_sample;        // [N] sample index in the store
  std::vector<std::int32_t> step_span_start;    // [N] the step's token span in its sample, end exclusive
  std::vector<std::int32_t> step_span_end;      // [N]
  const AnnealResult* result = nullptr;
  std::vector<AibMerge> merges;
  std::vector<ElbowRow> elbow;
  std::vector<ClusterSummary> clusters;
};

// Throws std::runtime_error naming the file on failure; an existing file is replaced only with `overwrite`.
void write_ib_file(const std::string& path, const IbRunRecord& record, bool overwrite = false);

}  // namespace headscope::analysis::ib
