// Heartbeat (telegraph) detection on an input-attention-fraction (IAF) trace, as METRICS.md defines it:
// a step is high when IAF >= threshold (0.5) and low otherwise; a heartbeat is a low run at least
// min_run (5) steps long. Two definitions, each result says which made it: `debounced` (default) and
// `drop` (the earlier pipeline's counter). Pulses are reported as half-open step ranges [begin, end).
#pragma once
#include <vector>

namespace headscope::analysis {

enum class HeartbeatDefinition {
  // The state switches only when a run of the opposite raw state is >= min_run long; shorter runs are
  // absorbed into the current state. The initial state is that of the first run >= min_run (none -> no
  // heartbeats) and holds from step 0. A heartbeat is a maximal low run of that debounced signal.
  debounced,
  // A heartbeat is a maximal raw low run >= min_run; shorter runs are dropped, high blips are never
  // bridged, a trailing run counts.
  drop,
};
const char* heartbeat_definition_name(HeartbeatDefinition definition);  // "debounced" / "drop"

struct HeartbeatOptions {
  HeartbeatDefinition definition = HeartbeatDefinition::debounced;
  double threshold = 0.5;  // high if value >= threshold
  int min_run = 5;         // L
  // A missing (NaN) value counts as this value (METRICS.md: 0.5, i.e. high) under both definitions.
  double missing_value = 0.5;
};

struct HeartbeatPulse {
  int begin = 0;  // first low step
  int end = 0;    // one past the last low step
};

struct HeartbeatResult {
  int count = 0;
  std::vector<HeartbeatPulse> pulses;  // count of them, in step order
  HeartbeatDefinition definition = HeartbeatDefinition::debounced;
  double threshold = 0.5;
  int min_run = 5;
};

// trace: [step] IAF values of one head.
HeartbeatResult detect_heartbeats(const float* trace, int step_count, const HeartbeatOptions& options = {});
HeartbeatResult detect_heartbeats(const std::vector<double>& trace, const HeartbeatOptions& options = {});

}  // namespace headscope::analysis
