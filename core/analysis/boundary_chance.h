// Boundary detection against a chance baseline (METRICS.md, "Seed conventions to reproduce"): the
// predicted boundaries of each sample are replaced by as many positions drawn uniformly at random,
// without replacement, from that sample's eligible positions (B draws, seeded), scored with the same
// tolerance as the observed ones and pooled over samples as the observed score is. Reported: observed
// P/R/F1, the chance means, and the fraction of draws whose score is >= the observed one.
#pragma once
#include <cstdint>
#include <vector>

#include "core/analysis/jsd_peaks.h"

namespace headscope::analysis {

// One sample's boundaries: what was predicted, what was recorded, and where a prediction could have
// been (for a windowed-JSD trace: the positions where the trace is finite).
struct BoundaryCase {
  std::vector<int> predicted, recorded, eligible;
};

struct ChanceOptions {
  int draws = 200;                  // B
  std::uint64_t seed = 20240601;    // std::mt19937_64; a position is eligible[rng() % remaining] (Fisher-Yates)
};

struct PrfTriple {
  double precision = 0, recall = 0, f1 = 0;  // NaN where undefined (as BoundaryScore)
};

struct ChanceBaseline {
  PrfTriple observed;               // pooled over the cases
  PrfTriple chance_mean;            // mean over draws (NaN draws skipped)
  PrfTriple at_least_observed;      // fraction of draws >= observed (NaN when observed is NaN)
  int draws = 0;
};

// Pooled P/R/F1 over cases: TP, predicted and recorded summed, then the ratios.
PrfTriple pooled_score(const std::vector<BoundaryCase>& cases, int tolerance);
ChanceBaseline chance_baseline(const std::vector<BoundaryCase>& cases, int tolerance, const ChanceOptions& options = {});
// The positions where a trace is finite (where a peak could be picked).
std::vector<int> finite_positions(const std::vector<double>& trace);

}  // namespace headscope::analysis
