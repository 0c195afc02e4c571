// The one heartbeat computation of a run, used by `headscope analyze`, `headscope heartbeats` and the
// heartbeat view, so their traces, counts, top heads and calibration table cannot disagree. For every
// sample and head: the IAF trace over the generated steps up to and including the first EOS (when the
// model's config names one), its heartbeats under the chosen definition (heartbeat.h); then one ranking
// of the heads and the calibration table by level.
//
// "Top heads" (most telegraph-like), the one rule: telegraph score = mean over samples with generated
// steps of the fraction of steps whose IAF lies at least 0.3 from the threshold, times pulse coverage =
// the fraction of those samples with at least one heartbeat; ties by higher mean count, then by head order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/aggregate.h"
#include "core/analysis/heartbeat.h"
#include "core/store/layout.h"

namespace headscope::store { class StoreReader; }

namespace headscope::analysis {

struct HeadHeartbeats {
  int layer = 0, head = 0;
  double mean_count = 0;           // heartbeats per sample with generated steps
  double telegraph_score = 0;      // mean fraction of generated steps at least 0.3 from the threshold
  double pulse_coverage = 0;       // fraction of samples with at least one heartbeat
  double rank_score() const { return telegraph_score * pulse_coverage; }
};

struct HeartbeatLevelRow {
  int level = -1;                  // -1: the sample recorded none
  int samples = 0;                 // with generated steps
  double mean_steps = 0;           // generated steps per sample (to the first EOS)
  double mean_all_heads = 0;       // heartbeats per sample and head
  double mean_top_heads = 0;       // per sample, the mean over the top heads; then the mean over samples
  double std_top_heads = 0;        // sample std of those per-sample means (NaN with one sample)
};

struct HeartbeatRun {
  HeartbeatOptions options;
  int top_heads = 10;              // heads the calibration averages (at most the head count)
  int sample_count = 0, layer_count = 0, head_count = 0;
  std::vector<int> levels;         // [sample] -1 when not recorded
  std::vector<int> steps;          // [sample] generated steps measured (to the first EOS), 0 when none
  std::vector<int> counts;         // [sample, layer, head] heartbeats; -1 where the sample has no steps
  std::vector<HeadHeartbeats> ranking;    // all heads, most telegraph-like first (empty without steps)
  std::vector<double> sample_top_mean;    // [sample] mean count over the top heads; NaN without steps
  std::vector<HeartbeatLevelRow> levels_table;  // ascending level
  bool has_generation() const { return !ranking.empty(); }
  int count(std::int64_t sample, store::HeadRef head) const {
    return counts[static_cast<std::size_t>((sample * layer_count + head.layer) * head_count + head.head)];
  }
  // The calibration as GroupStats rows (key = level, mean/std/count of the per-sample top-head means).
  std::vector<GroupStats> calibration() const;
};

// The generated steps of a sample that heartbeats are counted over: from prompt_length up to and
// including the first `eos` token, else to the end. tokens: [token].
int generated_heartbeat_steps(const std::vector<std::int32_t>& tokens, int prompt_length, std::optional<std::int64_t> eos);
// The model's end-of-sequence id from a store's model config JSON (eos_token_id), nullopt when none.
std::optional<std::int64_t> eos_of_model_config(const std::string& model_config_json);
// Heartbeats of one head's trace over a sample: trace [token] (the whole sample); counted on
// trace[prompt_length, prompt_length + steps). The view draws exactly what this returns.
HeartbeatResult sample_head_heartbeats(const float* trace, int prompt_length, int steps, const HeartbeatOptions& options);

// "debounced" or "drop"; throws std::runtime_error naming --definition otherwise.
HeartbeatDefinition parse_heartbeat_definition(const std::string& text);

// One pass over the run's samples and heads. A store without an iaf metric or generated steps gives a
// run with has_generation() false.
HeartbeatRun compute_heartbeat_run(const store::StoreReader& reader, const HeartbeatOptions& options, int top_heads = 10);
// The calibration table and the top heads as `headscope heartbeats` and `analyze` print them.
std::string format_heartbeat_run(const HeartbeatRun& run, int listed_heads);

}  // namespace headscope::analysis
