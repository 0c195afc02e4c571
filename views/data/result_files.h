// Torch-free readers for the small result files the analyses write — sweeps (kind "sweep", group /sweep;
// docs/store-format.md "Sweep files") and Information-Bottleneck runs (kind "ib", group /ib; docs/ib.md) —
// into plain structs the sweep, sweep-gains and ib views draw from. Read once, whole; read-only after.
// Errors name the file and say what kind it is when it is not the kind asked for.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/ib/ib_source.h"

namespace headscope::views {

inline constexpr int kSweepMetrics = 3;  // 0 entropy, 1 max_attention, 2 k90 (the order of the file)
const char* sweep_metric_file_name(int metric);  // "entropy", "max_attention", "k90"

struct SweepCheck {
  bool present = false;
  bool passed = false, bitwise = false;
  double max_abs_difference = 0, tolerance = 0;
  std::string detail;
};

struct SweepData {
  std::string path, command_line, created, model_name;
  std::string intervention, target, null_result, spread;
  std::vector<std::string> expected_directions;
  std::int64_t sample_count = 0, token_count = 0;
  double baseline_loss = 0;
  std::vector<double> scales;               // [condition] NaN for an ablation
  std::vector<std::string> condition_names; // [condition]
  std::vector<std::string> head_names;      // [head] target first ("L1H2")
  std::vector<std::string> roles;           // [head] "target" / "control"
  // [metric][condition * head_count + head], as stored ([condition, head], row-major)
  std::vector<double> mean[kSweepMetrics], spread_std[kSweepMetrics], count[kSweepMetrics];
  std::vector<double> baseline_mean[kSweepMetrics], baseline_std[kSweepMetrics];  // [metric][head]
  std::vector<double> loss_delta;           // [condition * head_count + head] nats
  std::vector<double> gain, gain_se, gain_r_squared, gain_intercept;  // [head], NaN when not fitted
  std::vector<std::string> gain_notes;      // [head]
  std::vector<std::string> trends[kSweepMetrics];  // [metric][head]
  std::vector<double> ratio;                // [control]
  std::vector<std::string> verdicts;        // [control]
  double ratio_versus_mean_control = 0;
  std::string verdict_versus_mean_control;
  SweepCheck sanity, isolation;
  // A sweep still running (or one that died) has complete = false: the checks arrive with the baseline,
  // then one condition at a time; pending conditions hold NaN. Files without these are complete.
  bool complete = true, baseline_done = true;
  std::vector<int> condition_done;          // [condition] 1 when measured (empty: all are)

  std::size_t condition_count() const { return scales.size(); }
  bool condition_is_done(std::size_t condition) const {
    return condition >= condition_done.size() || condition_done[condition] != 0;
  }
  std::size_t conditions_done() const;
  std::size_t head_count() const { return head_names.size(); }
  double at(const std::vector<double>& values, std::size_t condition, std::size_t head) const {
    return values[condition * head_count() + head];
  }
  bool scaling() const;  // scales are finite (a dose-response sweep, not an ablation)
};

struct IbEvent {
  int kind = 0;  // 0 split, 1 reabsorb, 2 merge_back, 3 nonconverged
  double beta = 0, beta_critical = 0, info_xt = 0, info_ty = 0, gain = 0;
  int cluster_count = 0, parent = -1, cluster = -1;
};

struct IbCluster {
  int id = -1, parent = -1, majority_label = -1;
  double mass = 0;
  std::int64_t size = 0;
  std::vector<double> label_distribution;  // q(y|t) [label]
};

struct IbData {
  std::string path, command_line, created, input, settings_json;
  double info_xy = 0, split_gain_floor = 0;
  std::int64_t step_count = 0;
  std::vector<std::string> label_names;  // [label]
  std::vector<IbEvent> history;          // [event]
  // The β-grid curve, [grid] each.
  std::vector<double> curve_beta, curve_info_xt, curve_info_ty;
  std::vector<int> curve_clusters, curve_converged;
  // AIB merges, [merge] each, in merge order (clusters_after falls).
  std::vector<double> merge_cost, merge_cost_fraction, merge_info_ty_after;
  std::vector<int> merge_clusters_after;
  // Elbow table, [threshold] each.
  std::vector<double> elbow_threshold;
  std::vector<int> elbow_clusters_nats, elbow_clusters_fraction;
  std::vector<IbCluster> clusters;       // [cluster]
  // Per step [step] (empty when the file lacks them): label index, final cluster index (into clusters),
  // q(t|x) of that cluster.
  std::vector<int> step_label, step_cluster;
  std::vector<double> step_membership;
  // The capture store the steps came from (/ib/source), when they came from one.
  bool has_source = false;
  std::string source_store_path, source_store_path_relative, source_store_created;
  analysis::ib::IbStepSource source_steps;
};

// The root `kind` attribute of a headscope HDF5 file ("capture", "sweep", "ib", "import"), or "" when the
// file has none. Throws std::runtime_error naming the file when it cannot be opened as HDF5.
std::string headscope_file_kind(const std::string& path);
// True for the kinds these readers serve (a sweep with a /sweep group, or an ib run).
bool is_result_file(const std::string& path);

// Throw std::runtime_error naming the file: not HDF5, another kind, a gain-scan file, a missing dataset.
std::shared_ptr<const SweepData> read_sweep_file(const std::string& path);
std::shared_ptr<const IbData> read_ib_file(const std::string& path);

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
