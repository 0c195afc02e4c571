// `headscope analyze`: the analyses of a capture store in one pass over its arrays — heartbeat
// detection on every head's IAF trace over generated steps (and the calibration table by level),
// K×K flow scores averaged over samples with head rankings and the phase criteria, and which heads'
// windowed JSD peaks mark the recorded step boundaries (precision/recall within ±k tokens). Results are
// written into the store's /analysis group (docs/store-format.md) and printed as tables.
#pragma once
#include <string>
#include <vector>

#include "core/analysis/aggregate.h"
#include "core/analysis/flow_scores.h"
#include "core/analysis/heartbeat.h"
#include "core/analysis/jsd_peaks.h"

namespace headscope::store {
class StoreReader;
}

namespace headscope::analysis {

struct StoreAnalysisOptions {
  HeartbeatOptions heartbeat;      // threshold 0.5, min run 5, debounced by default
  int telegraph_heads = 10;        // the calibration table averages the counts of this many top heads
  PeakOptions peaks;               // windowed-JSD peak picking
  int boundary_tolerance = 2;      // ±k tokens
};

struct HeadHeartbeats {
  int layer = 0, head = 0;
  double mean_count = 0;           // heartbeats per sample
  double telegraph_score = 0;      // mean fraction of generated steps at least 0.3 from the threshold
  double pulse_coverage = 0;       // fraction of samples with at least one heartbeat
};

struct StoreAnalysis {
  int sample_count = 0, layer_count = 0, head_count = 0;
  bool has_generation = false;     // any sample with generated steps (IAF defined)
  bool has_flow = false, has_boundaries = false;
  HeartbeatOptions heartbeat_options;           // as used (the tables print them)
  // Heartbeats
  std::vector<int> heartbeat_counts;            // [sample, layer, head]; -1 where the sample has no generated steps
  std::vector<HeadHeartbeats> telegraph_ranking;  // all heads, most telegraph-like first
  std::vector<int> sample_levels;               // [sample]; -1 when the prompt set gave none
  std::vector<double> sample_heartbeats;        // [sample] mean count over the top telegraph heads
  std::vector<GroupStats> calibration;          // mean heartbeats by level
  // Flow
  FlowAverage flow_average;
  FlowRunScores flow_scores;                    // scores of the sample-averaged matrices
  std::vector<RankedHead> composite_ranking;
  std::vector<PhaseCriterion> phase_criteria;
  FlowChecks flow_checks;
  // Boundaries
  std::vector<double> boundary_f1;              // [layer, head] mean over samples with recorded boundaries
  std::vector<RankedHead> boundary_ranking;
  BoundaryScore best_head_boundaries;           // pooled over samples for the best head
  int boundary_samples = 0;
  std::vector<std::string> notes;               // what could not be computed and why
};

StoreAnalysis analyze_store(const store::StoreReader& reader, const StoreAnalysisOptions& options = {});
// Replaces the file's /analysis/{heartbeats,flow,boundaries} groups with these results. The writer must
// have closed the file.
void write_store_analysis(const std::string& path, const StoreAnalysis& analysis, const StoreAnalysisOptions& options);
std::string format_store_analysis(const StoreAnalysis& analysis, int top = 10);

}  // namespace headscope::analysis
