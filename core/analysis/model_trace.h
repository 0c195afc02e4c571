// The model-level trace of a per-token metric, the one place it is derived: at each token the mean over
// every layer and head of the metric (NaN values skipped; NaN where every head is NaN). For `jsd`
// (consecutive-step JSD of each head) it is the one-number-per-step trace the seed's data holds (000);
// an imported JSD store is already model-level (1 x 1), and its trace is that one head's.
// Also: the comparison of two runs' model-level traces over the samples they share.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace headscope::store { class StoreReader; }

namespace headscope::analysis {

// layer_slices: per layer the [token, head] slice; returns [token].
std::vector<float> mean_over_heads(const std::vector<std::vector<float>>& layer_slices, int head_count);
// [token] of one sample. Throws std::runtime_error naming the file when the store lacks the metric.
std::vector<float> model_level_trace(const store::StoreReader& reader, std::int64_t sample, const std::string& metric = "jsd");

struct TraceComparisonRow {
  std::string id;               // the shared sample id (or "#i" when matched by position)
  int tokens_a = 0, tokens_b = 0;
  int compared = 0;             // steps where both traces are finite, aligned at the end of the sample
  double mean_a = 0, mean_b = 0;
  double pearson = 0;           // NaN with fewer than 3 compared steps or a constant trace
  double mean_abs_difference = 0;
};
struct TraceComparison {
  std::string metric;
  bool matched_by_id = true;    // false: no ids in common, samples paired by position
  std::vector<TraceComparisonRow> rows;
  double mean_a = 0, mean_b = 0, pooled_pearson = 0;  // over every compared step of every row
};
// One pair of traces, aligned at their last token: the compared steps, means, Pearson r, mean |A - B|
// (id, tokens_a and tokens_b filled too).
TraceComparisonRow compare_trace_pair(const std::vector<float>& a, const std::vector<float>& b);
// Pairs samples by id (else by position), aligns each pair's traces at their last token (a generation's
// steps end together; a capture includes the prompt that a JSD source may omit) and compares them.
TraceComparison compare_model_traces(const store::StoreReader& a, const store::StoreReader& b, const std::string& metric = "jsd");
std::string format_trace_comparison(const TraceComparison& comparison, int rows);

}  // namespace headscope::analysis
