// Heartbeat detection on IAF traces (METRICS.md, "Heartbeat (telegraph) detection"): run-length encode
// the raw high/low states, then count low runs under the debounced or the drop definition.
#include "core/analysis/heartbeat.h"

#include <cmath>

namespace headscope::analysis {
namespace {

struct Run {
  bool high = false;
  int begin = 0;
  int end = 0;
  int length() const { return end - begin; }
};

template <typename T>
std::vector<Run> raw_runs(const T* trace, int step_count, const HeartbeatOptions& options) {
  std::vector<Run> runs;
  for (int step = 0; step < step_count; ++step) {
    const double value = std::isnan(static_cast<double>(trace[step])) ? options.missing_value
                                                                       : static_cast<double>(trace[step]);
    const bool high = value >= options.threshold;
    if (runs.empty() || runs.back().high != high) runs.push_back({high, step, step});
    runs.back().end = step + 1;
  }
  return runs;
}

template <typename T>
HeartbeatResult detect(const T* trace, int step_count, const HeartbeatOptions& options) {
  HeartbeatResult result;
  result.definition = options.definition;
  result.threshold = options.threshold;
  result.min_run = options.min_run;
  const auto runs = raw_runs(trace, step_count, options);
  if (options.definition == HeartbeatDefinition::drop) {
    for (const Run& run : runs)
      if (!run.high && run.length() >= options.min_run) result.pulses.push_back({run.begin, run.end});
  } else {
    std::size_t first_long = 0;
    while (first_long < runs.size() && runs[first_long].length() < options.min_run) ++first_long;
    if (first_long < runs.size()) {
      bool high = runs[first_long].high;
      int state_begin = 0;  // the initial state holds from step 0
      for (std::size_t i = first_long + 1; i < runs.size(); ++i) {
        if (runs[i].high == high || runs[i].length() < options.min_run) continue;  // absorbed
        if (!high) result.pulses.push_back({state_begin, runs[i].begin});
        high = runs[i].high;
        state_begin = runs[i].begin;
      }
      if (!high) result.pulses.push_back({state_begin, step_count});
    }
  }
  result.count = static_cast<int>(result.pulses.size());
  return result;
}

}  // namespace

const char* heartbeat_definition_name(HeartbeatDefinition definition) {
  return definition == HeartbeatDefinition::drop ? "drop" : "debounced";
}

HeartbeatResult detect_heartbeats(const float* trace, int step_count, const HeartbeatOptions& options) {
  return detect(trace, step_count, options);
}

HeartbeatResult detect_heartbeats(const std::vector<double>& trace, const HeartbeatOptions& options) {
  return detect(trace.data(), static_cast<int>(trace.size()), options);
}

}  // namespace headscope::analysis
