// Phase 0 of Spectra (how the seed chose its target head): per head, the correlation of query norm with
// attention entropy over every token of every sample — Pearson r and Spearman's rank correlation (average
// ranks for ties) of the pairs where both are finite, and their count — and the heads ranked by r, most
// negative first (METRICS.md, "Seed conventions to reproduce"). `headscope analyze` stores it as
// /analysis/phase0; `headscope sweep --target phase0:STORE` takes its first head.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/analysis_group.h"

namespace headscope::store {
class StoreReader;
}

namespace headscope::analysis {

struct Correlation {
  double pearson = 0, spearman = 0;  // NaN with fewer than 2 pairs or a constant side
  std::int64_t pairs = 0;            // pairs where both values are finite
};

// Over the pairs (x[i], y[i]) where both are finite.
Correlation correlate(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks of `values`, tied values sharing the mean of their ranks.
std::vector<double> average_ranks(const std::vector<double>& values);

// Phase 0 of a capture store (present = false when it has no query_norm or no entropy). Reads one layer of
// every sample at a time: memory is two [token, head] floats per token of the store.
store::Phase0Group phase0_correlations(const store::StoreReader& reader);
// The ranking of p (heads with a finite r by r ascending, then layer, then head), from p.pearson.
std::vector<store::HeadRef> phase0_ranking(const store::Phase0Group& p, int head_count);
// `headscope sweep --target phase0:STORE`: the first head of STORE's phase-0 ranking (its /analysis/phase0
// when `headscope analyze` wrote it, else computed from its arrays) with its correlations. Throws
// std::runtime_error naming the file when the store has no query_norm or entropy, or no head has an r.
struct Phase0Target {
  store::HeadRef head;
  double pearson = 0, spearman = 0;
  std::int64_t pairs = 0;
  bool from_analysis = false;  // read from /analysis/phase0 (false: computed now)
};
Phase0Target phase0_target(const std::string& path);
inline constexpr const char* kPhase0TargetPrefix = "phase0:";
// STORE of a "phase0:STORE" target; nullopt for any other text (an L:H head).
std::optional<std::string> phase0_target_store(const std::string& target);
// "L1H2 from phase 0 of STORE (r = -0.53, Spearman -0.50, n = 1200; computed from the store's arrays)".
std::string describe_phase0_target(const Phase0Target& target, const std::string& path);
// The first `top` heads of the ranking with r, Spearman and n, one line each, under a header.
std::string format_phase0(const store::Phase0Group& p, int head_count, int top = 10);

}  // namespace headscope::analysis
