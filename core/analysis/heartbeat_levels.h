// `headscope heartbeats`: the heartbeat calibration table of a generation capture. For every sample and
// head, the IAF trace over the generated steps (up to and including the first EOS, when the model's
// config names one) goes through heartbeat.h; the table gives the mean heartbeat count by level (from
// each sample's "level" metadata), over all heads and over the most telegraph-like heads (highest mean
// count, ties broken by how bimodal the IAF is: mean |2 IAF - 1|).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/analysis/heartbeat.h"
#include "core/store/layout.h"

namespace headscope::store { class StoreReader; }

namespace headscope::analysis {

struct TelegraphHead {
  store::HeadRef head;
  double count_sum = 0, bimodality_sum = 0;
  int samples = 0;
  std::map<int, std::pair<double, int>> by_level;  // level -> (count sum, samples)
  double mean_count() const { return samples ? count_sum / samples : 0; }
  double bimodality() const { return samples ? bimodality_sum / samples : 0; }
};

struct HeartbeatLevelRow {
  int level = 0;
  int samples = 0;                 // with generated steps
  double mean_steps = 0;           // generated steps per sample
  double mean_all_heads = 0;       // heartbeats per sample and head
  double mean_top_heads = 0;       // the same over the `top` most telegraph-like heads
};

struct HeartbeatLevels {
  std::int64_t sample_count = 0;
  std::vector<HeartbeatLevelRow> levels;  // ascending level
  std::vector<TelegraphHead> top_heads;   // the `top` most telegraph-like, first the most
};

// "debounced" or "drop"; throws std::runtime_error naming --definition otherwise.
HeartbeatDefinition parse_heartbeat_definition(const std::string& text);
// Throws std::runtime_error when the store has no iaf metric.
HeartbeatLevels heartbeat_levels(const store::StoreReader& reader, const HeartbeatOptions& options, int top);

}  // namespace headscope::analysis
