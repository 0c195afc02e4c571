// Intervention sweeps (DESIGN.md "Interventions", METRICS.md "Intervention gain"): scale one head's
// pre-RoPE query (or its key, or ablate its output) over a list of scales, measure entropy, max attention
// and k90 of that head with the capture's own metric code, the change in next-token loss, fit the gain
// (OLS of mean max-attention on ln scale) per head, compare target and controls, and prove the run sound
// with two checks (baseline sanity, isolation). Plus a gain scan ranking every head of a layer. Torch-free.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "capture/model/interventions.h"
#include "core/analysis/gain.h"
#include "core/analysis/sweep_bootstrap.h"
#include "core/commands/gain_scan_command.h"
#include "core/commands/sweep_command.h"
#include "core/store/layout.h"

namespace headscope::sweep {

enum class SweepKind { query_scale, key_scale, ablate_zero, ablate_mean };
const char* sweep_kind_name(SweepKind kind);        // "query_scale", "key_scale", "ablate_zero", "ablate_mean"
SweepKind parse_sweep_kind(const std::string& text);  // also "query", "key"; throws std::invalid_argument
bool is_scaling(SweepKind kind);                     // query_scale or key_scale: the only kinds with a gain
// The directions printed before a run, one line per metric, e.g. "max_attention: up as the scale grows".
std::vector<std::string> expected_directions(SweepKind kind);

// Where the samples come from: a JSONL prompt set (core/io/prompt_set.h) or an .npz token shard (an
// integer [sample, token] member; each row is one sample).
struct SampleSource {
  std::string prompts_path;
  std::string shards_path;
  std::string shard_member;     // "" = the rule of core/io/sample_source.h (tokens, input_ids, ids, else the first)
  std::int64_t max_samples = -1;
  bool add_bos = true;          // prompts with text: prepend the tokenizer's BOS
};

struct RunSettings {
  std::string model_dir;
  std::string device = "cpu";
  std::string dtype = "auto";
  std::string adapter;  // a PEFT LoRA adapter folder merged at load ("" = none)
  int threads = 0;
  std::string command_line;     // written into the file
};

// How the controls are chosen when none are given: `random` draws control_count other heads of the
// target's layer with the seed; `matched` takes the control_count other heads of that layer whose baseline
// entropy (mean over every token of every sample, one extra unintervened pass per sample) is closest to
// the target's. Query scaling acts as a temperature, so a control far sharper or more diffuse than the
// target confounds the gain ratio: these are the sound defaults, `given` the explicit list.
enum class ControlDraw { given, random, matched };
const char* control_draw_name(ControlDraw draw);         // "given", "random", "matched"
ControlDraw parse_control_draw(const std::string& text);  // throws std::invalid_argument

struct SweepSettings {
  RunSettings run;
  SampleSource samples;
  store::HeadRef target;
  std::vector<store::HeadRef> controls;  // used as given when non-empty; else drawn by `draw`
  ControlDraw draw = ControlDraw::given;
  int control_count = 3;
  std::uint64_t seed = 0;                // the random draw's and the bootstrap's
  int bootstrap_resamples = 1000;        // B of the across-sample intervals (0: none)
  std::vector<double> scales = {0.5, 0.75, 1.0, 1.25, 1.5};  // ascending after validation; ignored for ablations
  SweepKind kind = SweepKind::query_scale;
  double sanity_tolerance = 1e-6;  // max |difference| in logits and probes accepted by the sanity check
  // Applied alongside every intervened run. Empty in real use; tests put a second head here to break
  // isolation on purpose and see the check catch it.
  std::vector<model::HeadIntervention> extra_interventions;
};

struct MetricStats {  // over every token of every sample (NaN tokens skipped)
  double mean = 0;
  double std = 0;     // sample standard deviation (n - 1); NaN when n < 2
  std::int64_t n = 0;
};

inline constexpr int kSweepMetricCount = 3;
const char* sweep_metric_name(int metric);   // 0 entropy, 1 max_attention, 2 k90
const char* sweep_metric_units(int metric);  // "nats", "probability", "keys"

// One condition (a scale, or "ablated") for one measured head, intervened on that head alone.
struct HeadCondition {
  MetricStats metrics[kSweepMetricCount];
  // Per sample, for the across-sample bootstrap: [sample] mean over the sample's tokens and their count.
  std::vector<double> sample_mean[kSweepMetricCount], sample_n[kSweepMetricCount];
  double loss = 0;        // mean next-token cross-entropy over every predicted token, nats
  double loss_delta = 0;  // loss - baseline loss
};

struct HeadGain {
  bool fitted = false;                 // false for ablations (no dose) and when the fit failed
  analysis::OlsFit fit;                // mean max-attention on ln(scale)
  std::string note;                    // why not fitted, or "" 
  analysis::Trend trends[kSweepMetricCount] = {analysis::Trend::not_monotonic, analysis::Trend::not_monotonic,
                                               analysis::Trend::not_monotonic};
  bool as_expected[kSweepMetricCount] = {false, false, false};
  // How far each metric moves over the sweep, in units of its baseline spread: the OLS slope of the
  // metric's mean on ln(scale) times ln(largest / smallest scale), over the baseline std across tokens.
  // Unit-free, so the metrics compare; `moves_most` is the one of largest |effect| (-1: none).
  double effect[kSweepMetricCount] = {0, 0, 0};
  int moves_most = -1;
};

struct CheckResult {
  std::string name;             // "baseline sanity" or "isolation"
  bool passed = false;
  bool bitwise = false;         // every compared value identical, bit for bit
  double max_abs_difference = 0;
  double tolerance = 0;
  std::string detail;           // one line for people: what was compared and what was found
};

struct SweepResult {
  SweepKind kind = SweepKind::query_scale;
  std::vector<double> scales;              // [condition]; ablations: one condition, scale NaN
  std::vector<std::string> conditions;     // [condition] "scale 0.5" or "ablated (zero)"
  std::vector<store::HeadRef> heads;       // [head] target first, then the controls
  std::int64_t sample_count = 0;
  std::int64_t token_count = 0;            // tokens measured per condition (all samples)
  std::vector<HeadCondition> baseline;     // [head] no intervention at all
  double baseline_loss = 0;
  std::vector<std::vector<HeadCondition>> conditions_by_head;  // [condition][head]
  std::vector<HeadGain> gains;             // [head]
  std::vector<analysis::GainComparison> comparisons;  // [control] target vs each control
  analysis::GainComparison versus_mean_control;       // target vs the mean of the control gains
  analysis::BootstrapOptions bootstrap_options;  // B and the seed analyse_sweep resamples with
  analysis::SweepBootstrap bootstrap;      // across-sample 95 % intervals (once complete)
  std::string control_choice;              // how the controls were chosen, in words
  std::string null_result;                 // non-empty: why the run shows no effect (reported, never hidden)
  CheckResult sanity, isolation;
  std::string model_config_json;
  std::string model_name;
  // Progress. run_sweep measures the baseline (with both checks) first, then one condition at a time, and
  // hands a snapshot to its progress sink after each; a pending condition holds NaN means and n = 0, a
  // pending check has an empty name.
  bool baseline_done = false;
  std::vector<std::uint8_t> condition_done;  // [condition] 1 once every measured head has that condition
  std::size_t conditions_done() const;
  bool complete() const;                     // the baseline and every condition are in
};

using LogSink = std::function<void(const std::string& line)>;
// Receives partial results (see SweepResult, "Progress"): once before the first forward pass, after the
// baseline and the checks, and after each condition; the last call holds the complete result.
using ProgressSink = std::function<void(const SweepResult& partial)>;

// Where a running sweep or gain scan is, after each forward pass of the model (for progress lines).
struct RunProgress {
  std::int64_t runs_done = 0;
  std::int64_t run_count = 0;    // forward passes the whole run makes
  std::int64_t tokens_done = 0;  // tokens through the model so far
  std::string phase;             // "baseline and checks, sample 3/10", "scale 0.75, sample 2/10", "layer 2, scale 0.5"
};
using RunProgressSink = std::function<void(const RunProgress&)>;

// Runs the sweep. Throws std::runtime_error / model::ModelError for bad input (heads outside the model,
// a scale <= 0, no samples) before any forward pass. `log` gets the expected directions first, then the
// checks' outcome; `runs` hears of each forward pass.
SweepResult run_sweep(const SweepSettings& settings, const LogSink& log = {}, const ProgressSink& progress = {},
                      const RunProgressSink& runs = {});
// Fills gains, comparisons, trends and the null-result line from the per-condition statistics. On a
// partial result: trends and gains over the conditions done (a gain once 3 are in), no comparisons and
// no null-result line until the sweep is complete.
void analyse_sweep(SweepResult& result);
std::string format_sweep_report(const SweepResult& result);

struct GainScanSettings {
  RunSettings run;
  SampleSource samples;
  int layer = 0;                 // the layer to scan, or -1 = every layer
  std::vector<double> scales = {0.5, 0.75, 1.0, 1.25, 1.5};
  SweepKind kind = SweepKind::query_scale;  // query_scale or key_scale
  int controls_per_head = 3;     // random other heads of the scanned set, drawn with `seed`
  std::uint64_t seed = 0;
};

// The settings `headscope sweep` and `headscope gain-scan` run with, from their command structs
// (core/commands/). Throw std::runtime_error without a sample source (or gain-scan without --layer or
// --all-layers), std::invalid_argument for an unknown kind.
SweepSettings sweep_settings(const commands::SweepCommand& command, const std::string& command_line);
GainScanSettings gain_scan_settings(const commands::GainScanCommand& command, const std::string& command_line);

struct GainScanRow {
  store::HeadRef head;
  analysis::OlsFit fit;
  std::vector<double> max_attention_by_scale;  // [scale] mean over tokens and samples
  std::vector<store::HeadRef> controls;
  double control_gain = 0;                     // mean gain of the controls
  analysis::GainComparison comparison;         // head vs control_gain
  analysis::Trend trend = analysis::Trend::not_monotonic;
};

struct GainScanResult {
  SweepKind kind = SweepKind::query_scale;
  std::vector<double> scales;
  std::vector<GainScanRow> rows;  // ranked by gain, highest first
  std::int64_t sample_count = 0, token_count = 0;
  std::uint64_t seed = 0;
  int controls_per_head = 0;
  std::string model_config_json, model_name;
};

GainScanResult run_gain_scan(const GainScanSettings& settings, const LogSink& log = {}, const RunProgressSink& runs = {});
std::string format_gain_scan(const GainScanResult& result);

// HDF5 results (docs/store-format.md, "Sweep files"): root provenance of kind "sweep", the model's config,
// and the /sweep (or /gain_scan) group. Each call writes the whole file to PATH.partial and renames it
// over PATH, so a reader sees the previous version or this one, never a half-written one: a running
// sweep calls write_sweep_file after each condition (`overwrite` true after the first). Throws
// store::StoreError.
void write_sweep_file(const std::string& path, const SweepResult& result, const std::string& command_line,
                      bool overwrite);
void write_gain_scan_file(const std::string& path, const GainScanResult& result, const std::string& command_line,
                          bool overwrite);

}  // namespace headscope::sweep
