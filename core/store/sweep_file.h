// Sweep and gain-scan result files (kind "sweep"; docs/store-format.md "Sweep files"): one plain struct
// each, as stored, one writer and (for sweeps) one reader. capture/sweep fills them from its results; the
// sweep views draw from what read_sweep_file returns. Writes go to OUT.partial, renamed over OUT, so a
// reader sees the previous whole file or the new one; a running sweep rewrites its file after each condition.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::store {

inline constexpr int kSweepMetricCount = 3;   // the metrics a sweep records, in file order
const char* sweep_metric_name(int metric);    // 0 "entropy", 1 "max_attention", 2 "k90"
const char* sweep_metric_units(int metric);   // "nats", "probability", "keys"

struct SweepCheck {
  bool present = false;           // false until the baseline is done (the checks run with it)
  bool passed = false, bitwise = false;
  double max_abs_difference = 0, tolerance = 0;
  std::string detail;
};

// A sweep as stored. Dimensions: condition (one per scale, or one "ablated"), head (target first, then
// the controls), control (= heads[1:]). [condition, head] arrays are row-major, condition * heads + head.
struct SweepFile {
  std::string path, command_line, created;              // root (read back; the writer stamps `created`)
  std::string model_name, model_config_json;            // /model
  std::string intervention, target, null_result;
  std::string spread;                                   // what std means (the writer states it)
  std::vector<std::string> expected_directions;
  std::int64_t sample_count = 0, token_count = 0;       // token_count: tokens per condition
  double baseline_loss = 0;                             // nats
  std::vector<double> scales;                           // [condition] NaN for an ablation
  std::vector<std::string> condition_names;             // [condition]
  std::vector<HeadRef> heads;                           // [head] target first
  std::vector<std::string> head_names;                  // [head] "L1H2"
  std::vector<std::string> roles;                       // [head] "target" / "control"
  std::vector<double> mean[kSweepMetricCount], spread_std[kSweepMetricCount];  // [metric][condition, head]
  std::vector<double> count[kSweepMetricCount];         // [metric][condition, head] tokens counted
  std::vector<double> baseline_mean[kSweepMetricCount], baseline_std[kSweepMetricCount];  // [metric][head]
  std::vector<double> baseline_count[kSweepMetricCount];                                  // [metric][head]
  std::vector<double> loss, loss_delta;                 // [condition, head] nats
  std::vector<double> gain, gain_se, gain_r_squared, gain_intercept;  // [head], NaN when not fitted
  std::vector<int> gain_fitted;                         // [head] 1 when a gain was fitted
  std::vector<std::string> gain_notes;                  // [head]
  std::vector<std::string> trends[kSweepMetricCount];   // [metric][head]
  std::vector<double> ratio;                            // [control]
  std::vector<std::string> verdicts;                    // [control]
  double ratio_versus_mean_control = 0;
  std::string verdict_versus_mean_control;
  // Across samples (absent from older files: empty / NaN). [sample] dimension = the sweep's samples.
  std::string control_choice;                           // how the controls were chosen, in words
  std::vector<double> sample_mean[kSweepMetricCount];   // [metric][condition, head, sample] mean over the sample's tokens
  std::vector<double> sample_n[kSweepMetricCount];      // [metric][condition, head, sample] its token count
  std::int64_t bootstrap_resamples = 0, bootstrap_seed = 0;  // 0 resamples: no intervals (bootstrap_note says why)
  double bootstrap_confidence = 0.95;
  std::string bootstrap_note;
  std::vector<double> gain_ci_low, gain_ci_high;        // [head] percentile interval of the gain
  std::vector<double> ratio_ci_low, ratio_ci_high;      // [control]
  std::vector<int> control_flat;                        // [control] 1 when its gain interval contains 0
  double ratio_versus_mean_control_ci_low = 0, ratio_versus_mean_control_ci_high = 0;
  std::vector<double> max_attention_ci_low, max_attention_ci_high;  // [condition, head] interval of each point
  std::vector<double> effect;                           // [head, metric] change over the sweep in baseline std
  std::vector<std::string> moves_most;                  // [head] the metric of largest |effect| ("" none)
  bool has_intervals() const { return bootstrap_resamples > 0 && gain_ci_low.size() == head_count(); }
  SweepCheck sanity, isolation;
  // A sweep still running (or one that died) has complete = false: the checks arrive with the baseline,
  // then one condition at a time; pending conditions hold NaN. Files without these are complete.
  bool complete = true, baseline_done = true;
  std::vector<int> condition_done;                      // [condition] 1 when measured (empty: all are)

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

// A gain scan as stored (group /gain_scan). Dimension rank orders heads by gain, highest first.
struct GainScanFile {
  std::string command_line, model_name, model_config_json;
  std::string intervention;
  std::int64_t sample_count = 0, token_count = 0, seed = 0, controls_per_head = 0;
  std::vector<double> scales;                    // [scale]
  std::vector<HeadRef> heads;                    // [rank]
  std::vector<double> gain, gain_se, gain_r_squared;  // [rank]
  std::vector<double> max_attention_mean;        // [rank, scale]
  std::vector<HeadRef> controls;                 // [rank, control]
  std::vector<double> control_gain, ratio;       // [rank]
  std::vector<std::string> verdicts, trends;     // [rank] ratio verdict, max_attention trend
};

// Throw StoreError naming the file (an existing OUT without overwrite, an unwritable folder).
void write_sweep_file(const std::string& path, const SweepFile& sweep, bool overwrite);
void write_gain_scan_file(const std::string& path, const GainScanFile& scan, bool overwrite);
// Throws StoreError naming the file: not HDF5, another kind, a gain-scan file, a missing dataset.
std::shared_ptr<const SweepFile> read_sweep_file(const std::string& path);

}  // namespace headscope::store
