// Step boundaries from a windowed-JSD trace: peak picking with a stated rule, and precision/recall/F1 of
// predicted boundaries against the step boundaries a prompt set records, within +-k tokens.
//
// Peak rule (pick_jsd_peaks): over the finite values of the trace, threshold = mean + z * std (population
// std). A peak is an index i whose value is finite, >= threshold, > its left neighbour and >= its right
// neighbour (a missing or NaN neighbour counts as lower; on a plateau the first index wins). Peaks are
// then kept greedily from the highest value down (ties: lower index first), dropping any peak closer than
// min_separation to one already kept. Result in increasing index order. Indices are trace indices; the
// caller maps them to token positions.
#pragma once
#include <vector>

namespace headscope::analysis {

struct PeakOptions {
  double z = 1.0;          // threshold = mean + z * std
  int min_separation = 3;  // kept peaks are at least this many indices apart
};

std::vector<int> pick_jsd_peaks(const std::vector<double>& trace, const PeakOptions& options = {});

struct BoundaryMatch {
  int predicted = 0;
  int recorded = 0;
};

struct BoundaryScore {
  int true_positives = 0;
  int predicted_count = 0;
  int recorded_count = 0;
  double precision = 0;  // TP / predicted; NaN when nothing was predicted
  double recall = 0;     // TP / recorded; NaN when nothing was recorded
  double f1 = 0;         // 2PR / (P + R); 0 when P + R = 0; NaN when P or R is NaN
  std::vector<BoundaryMatch> matches;
};

// Greedy one-to-one matching: every (predicted, recorded) pair with |difference| <= tolerance, taken in
// order of increasing distance (ties: smaller predicted, then smaller recorded), each side used once.
BoundaryScore score_boundaries(const std::vector<int>& predicted, const std::vector<int>& recorded,
                               int tolerance);

}  // namespace headscope::analysis
