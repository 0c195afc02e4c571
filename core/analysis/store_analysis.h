// `headscope analyze`: the analyses of a capture store in one pass over its arrays — heartbeat
// detection on every head's IAF trace over generated steps (and the calibration table by level),
// K×K flow scores averaged over samples with head rankings and the phase criteria, and which heads'
// windowed JSD peaks (and the model-level trace's, and heartbeat pulse starts) mark the recorded step
// boundaries (precision/recall within ±k tokens, against a chance baseline), and Spectra's phase 0
// (query norm vs entropy per head). Results are
// written into the store's /analysis group (docs/store-format.md) and printed as tables.
#pragma once
#include <string>
#include <vector>

#include "core/analysis/aggregate.h"
#include "core/analysis/boundary_chance.h"
#include "core/analysis/flow_scores.h"
#include "core/analysis/heartbeat.h"
#include "core/analysis/heartbeat_run.h"
#include "core/analysis/jsd_peaks.h"
#include "core/analysis/phase0.h"

namespace headscope::store {
class StoreReader;
}

namespace headscope::analysis {

struct StoreAnalysisOptions {
  HeartbeatOptions heartbeat;      // threshold 0.5, min run 5, debounced by default
  int telegraph_heads = 10;        // the calibration table averages the counts of this many top heads
  PeakOptions peaks;               // windowed-JSD peak picking
  int boundary_tolerance = 2;      // ±k tokens
  ChanceOptions chance;            // the chance baseline of boundary detection: B = 200 draws, seeded
};

struct StoreAnalysis {
  int sample_count = 0, layer_count = 0, head_count = 0;
  bool has_generation = false;     // any sample with generated steps (IAF defined)
  bool has_flow = false, has_boundaries = false;
  HeartbeatOptions heartbeat_options;           // as used (the tables print them)
  // Heartbeats: the one computation (heartbeat_run.h); the fields below are copied from it
  HeartbeatRun heartbeats;
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
  std::vector<ChanceBaseline> boundary_chance;  // [layer, head] pooled observed P/R/F1 against chance
  ChanceBaseline model_boundary_chance;         // the model-level trace: windowed JSD averaged over heads
  bool has_pulse_boundaries = false;
  ChanceBaseline pulse_boundary_chance;         // the top telegraph head's heartbeat pulse starts
  // Phase 0 (phase0.h): query norm vs entropy per head; present when the store has both metrics
  store::Phase0Group phase0;
  std::vector<std::string> notes;               // what could not be computed and why
};

StoreAnalysis analyze_store(const store::StoreReader& reader, const StoreAnalysisOptions& options = {});
// Replaces the file's /analysis/{heartbeats,flow,boundaries,phase0} groups with these results. The writer must
// have closed the file.
void write_store_analysis(const std::string& path, const StoreAnalysis& analysis, const StoreAnalysisOptions& options);
std::string format_store_analysis(const StoreAnalysis& analysis, int top = 10);

}  // namespace headscope::analysis
