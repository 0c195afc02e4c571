// Information-Bottleneck result files (kind "ib", group /ib; docs/ib.md): one plain struct as stored, one
// writer, one reader. core/analysis/ib fills the struct from its solver's results; the ib views draw from
// what read_ib_file returns. Every dataset carries units, a description and its dimension names.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace headscope::store {

// Where each step of an IB run is in its capture store. [step] each.
struct IbStepSpans {
  std::vector<std::int64_t> sample;
  std::vector<std::int32_t> span_start, span_end;  // token span in the sample, end exclusive
  std::size_t step_count() const { return sample.size(); }
};

struct IbEvent {  // one row of /ib/history
  int kind = 0;   // 0 split, 1 reabsorb, 2 merge_back, 3 nonconverged
  double beta = 0, beta_critical = 0, info_xt = 0, info_ty = 0, gain = 0;
  int cluster_count = 0, parent = -1, cluster = -1;
  double size_a = 0, size_b = 0;  // steps in the two halves of the split concerned
  int iterations = 0;
};

struct IbCluster {  // one row of /ib/clusters
  int id = -1, parent = -1, majority_label = -1;
  double mass = 0;
  std::int64_t size = 0;
  std::vector<double> label_distribution;  // q(y|t) [label]
  std::vector<std::int64_t> label_counts;  // [label] (written; read back when present)
  std::vector<std::int64_t> examples;      // step indices with the highest q(t|x)
};

struct IbFile {
  std::string path, command_line, created;  // root (the writer stamps `created`)
  std::string input, settings_json;         // /ib attributes: the input source and the options as JSON
  double info_xy = 0, split_gain_floor = 0;
  std::int64_t step_count = 0;
  std::vector<std::string> label_names;  // [label]
  std::vector<IbEvent> history;          // [event]
  // The β-grid curve, [grid] each.
  std::vector<double> curve_beta, curve_info_xt, curve_info_ty, curve_cluster_entropy;
  std::vector<int> curve_clusters, curve_converged, curve_iterations;
  // AIB merges, [merge] each, in merge order (clusters_after falls).
  std::vector<int> merge_kept, merge_absorbed;
  std::vector<double> merge_cost, merge_cost_fraction, merge_info_ty_after;
  std::vector<int> merge_clusters_after;
  // Elbow table, [threshold] each.
  std::vector<double> elbow_threshold;
  std::vector<int> elbow_clusters_nats, elbow_clusters_fraction;
  std::vector<int> elbow_clusters_split;   // the seed's reading from the annealing's split gains (0: not in the file)
  std::vector<double> elbow_beta_split;    // the β of the last split gaining >= threshold (NaN: none)
  std::vector<IbCluster> clusters;       // [cluster]
  // Per step [step] (empty when the file lacks them): label index, k-means cell, final cluster index
  // (into clusters), q(t|x) of that cluster.
  std::vector<int> step_label, step_cell, step_cluster;
  std::vector<double> step_membership;
  // The capture store the steps came from (/ib/source), when they came from one. Writing: the store's
  // path as given (written absolute and relative to the file).
  bool has_source = false;
  std::string source_store_path, source_store_path_relative, source_store_created;
  IbStepSpans source_steps;
};

// Writes `path` through a temporary sibling renamed over it (file_replace.h); an existing `path` is replaced
// only with `overwrite`. Throws StoreError naming the file.
void write_ib_file(const std::string& path, const IbFile& ib, bool overwrite = false);
// Throws StoreError naming the file: not HDF5, another kind, a missing dataset.
std::shared_ptr<const IbFile> read_ib_file(const std::string& path);

}  // namespace headscope::store
