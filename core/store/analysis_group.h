// The /analysis group of a capture store (`headscope analyze`; docs/store-format.md): one plain struct as
// stored, one writer that replaces /analysis/{heartbeats,flow,boundaries,phase0} once the capture has closed the
// file, one reader. core/analysis/store_analysis.cpp fills the struct from its results.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::store {

struct HeartbeatsGroup {                          // /analysis/heartbeats
  bool present = false;                           // false: no generated steps, nothing written
  std::string definition;                         // "debounced" or "drop"
  double threshold = 0;
  std::int64_t min_run = 0, telegraph_heads = 0;
  std::vector<std::int32_t> counts;               // [sample, layer, head] heartbeats; -1 where none generated
  std::vector<HeadRef> telegraph_ranking;         // [rank] most telegraph-like IAF first
  std::vector<double> telegraph_score;            // [rank]
  std::vector<std::int32_t> calibration_level;    // [row]
  std::vector<double> calibration_mean, calibration_std;  // [row] heartbeats
  std::vector<std::int32_t> calibration_samples;  // [row]
};

struct FlowGroup {                                // /analysis/flow
  bool present = false;
  int k = 0;
  std::vector<float> mean, std;                   // [layer, head, attending, attended] over samples
  std::vector<double> flow, hub_score, skip, composite;  // [layer, head]
  std::vector<std::int32_t> hub_position;         // [layer, head]
  std::string normalization;                      // how the scores were normalised, in words
  // The CODI seed's analysis (absent from files written before it: all empty).
  std::vector<double> sequential;                 // [layer, head] sub-diagonal share
  std::vector<std::int32_t> functional_type;      // [layer, head] code, see functional_types
  std::string functional_types;                   // the codes in words: "0 flow, 1 hub, 2 skip, 3 sequential"
  std::vector<double> row_max;                    // [layer, head, attending] largest entry of each row
  std::string top_bottom;                         // the top/bottom groups of the phase-2 criterion, in words
  std::vector<std::string> criteria;              // [criterion] the phase criteria, in words
  std::vector<std::int32_t> criterion_phase;      // [criterion] 1 or 2
  std::vector<double> criterion_value, criterion_threshold;  // [criterion]
  std::vector<std::int32_t> criterion_passed;     // [criterion] 1 pass, 0 fail
};

struct BoundariesGroup {                          // /analysis/boundaries
  bool present = false;
  std::int64_t tolerance_tokens = 0;
  std::string peak_rule;
  std::vector<double> f1;                         // [layer, head]
  // The chance baseline (absent from files written before it: all empty). Scores pooled over samples,
  // the last axis "score" = precision, recall, f1; chance: peaks placed at random (chance_draws, seeded).
  std::int64_t chance_draws = 0, chance_seed = 0;
  std::vector<double> observed, chance_mean, chance_at_least;  // [layer, head, score]
  std::vector<std::string> detectors;             // [detector] e.g. "model windowed JSD", "pulse starts L1H0"
  std::vector<double> detector_observed, detector_chance_mean, detector_chance_at_least;  // [detector, score]
};

// The chance-baseline arrays of /analysis/boundaries, declared once: name, member and description; the
// per-detector ones are named "detector_" + name.
struct BoundaryStatistic {
  const char* name;
  std::vector<double> BoundariesGroup::*per_head;
  std::vector<double> BoundariesGroup::*per_detector;
  const char* description;
};
const std::vector<BoundaryStatistic>& boundary_statistics();

struct Phase0Group {                              // /analysis/phase0 (core/analysis/phase0.h)
  bool present = false;                           // false: the store has no query_norm or entropy
  std::vector<double> pearson, spearman;          // [layer, head] r of query norm vs entropy over tokens; NaN: too few pairs
  std::vector<std::int64_t> pairs;                // [layer, head] tokens where both are finite
  std::vector<HeadRef> ranking;                   // [rank] heads with an r, most negative r first
};

struct AnalysisGroup {
  int sample_count = 0, layer_count = 0, head_count = 0;
  HeartbeatsGroup heartbeats;
  FlowGroup flow;
  BoundariesGroup boundaries;
  Phase0Group phase0;
};

// Throws StoreError unless /analysis can be written: no live writer holds the file, and the file and its
// folder are writable. `headscope analyze` asks before it reads the store, write_analysis_group again.
void check_analysis_writable(const std::string& path);
// Replaces the file's /analysis/{heartbeats,flow,boundaries,phase0} with the present parts, by writing a copy and
// renaming it over the file: on any failure (a full disk, a kill) the file is unchanged. Throws StoreError
// naming the file (a capture still writes it, it or its folder is read-only, the disk is full).
void write_analysis_group(const std::string& path, const AnalysisGroup& analysis);
// What /analysis holds (parts absent from the file have present = false). Throws StoreError.
AnalysisGroup read_analysis_group(const std::string& path);

}  // namespace headscope::store
