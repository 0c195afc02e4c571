// Scores of K x K flow matrices (METRICS.md, "K×K flow matrices"): the attention among K chosen positions
// (latent steps, pause tokens, or the last K), row i = the attending position, column j = the attended one.
// Per head: flow, hub score and position, skip, composite (normalised over all heads of the run); checks
// of a run's matrices; averages over samples with std; head rankings; the earlier pipeline's phase
// criteria as pass/fail items.
#pragma once
#include <string>
#include <vector>

namespace headscope::analysis {

inline constexpr int kDefaultFlowPositions = 6;  // K

struct FlowHeadScores {
  double flow = 0;        // sum_{j<i} A / sum_{j<=i} A (0 when the denominator is 0)
  double hub_score = 0;   // population variance (divide by K) of the column sums
  int hub_position = 0;   // argmax of the column sums (first on ties)
  double skip = 0;        // mean of A[K-1, 0..2]; NaN when K < 3
  double max_value = 0;   // largest entry of the matrix
  double composite = 0;   // 0.4 flow + 0.4 hub_norm + 0.2 skip_norm; NaN until normalised over a run
};

// matrix: [K, K]. The composite is left NaN (it needs the whole run).
FlowHeadScores score_flow_matrix(const float* matrix, int k);

// composite = 0.4 flow + 0.4 (hub - hub_min) / (hub_max - hub_min) + 0.2 (skip - skip_min) / (skip_max -
// skip_min), min and max over every head of the run (NaN scores skipped); a normalised term is 0 when
// max == min. The run records the bounds it used.
struct FlowNormalization {
  double hub_min = 0, hub_max = 0;
  double skip_min = 0, skip_max = 0;
  static constexpr const char* kDescription =
      "composite = 0.4*flow + 0.4*hub_norm + 0.2*skip_norm; hub_norm and skip_norm are min-max normalised over "
      "all heads of the run (0 when max == min); hub score = population variance of column sums";
};

struct FlowRunScores {
  int layer_count = 0, head_count = 0, k = 0;
  std::vector<FlowHeadScores> heads;  // [layer, head]
  FlowNormalization normalization;
  const FlowHeadScores& at(int layer, int head) const {
    return heads[static_cast<std::size_t>(layer * head_count + head)];
  }
};

// matrices: [layer, head, K, K].
FlowRunScores score_flow_run(const float* matrices, int layer_count, int head_count, int k);

// The composite's normalisation bounds over `heads`: min and max of the hub and skip scores (NaN skipped;
// +inf / -inf when there is none). Two runs compared on one scale take the union of their bounds.
FlowNormalization flow_normalization_bounds(const std::vector<FlowHeadScores>& heads);
FlowNormalization merge_flow_normalizations(const FlowNormalization& a, const FlowNormalization& b);
// Sets every head's composite with the given bounds.
void apply_flow_normalization(std::vector<FlowHeadScores>& heads, const FlowNormalization& normalization);

// The earlier pipeline's concentration test on composites sorted descending (NaN already dropped): the mean
// of the top min(10, n) and of the bottom min(50, n). Both NaN when there is none.
struct CompositeTopBottom {
  double top_mean = 0, bottom_mean = 0;
};
CompositeTopBottom composite_top_bottom(const std::vector<double>& descending);

struct FlowChecks {
  bool shape_ok = false;            // value_count == layer_count * head_count * K * K and K == expected_k
  std::string shape_message;        // empty when the shape is fine
  double tolerance = 1e-5;
  double max_upper_triangle = 0;    // largest |A[i, j]| with j > i
  int upper_triangle_violations = 0;   // entries above tolerance
  double max_row_sum = 0;           // largest row sum of a block
  int row_sum_violations = 0;       // block rows summing to more than 1 + tolerance
  double max_outside_mass = 0;      // 1 - row sum: mass of a full attention row outside the K positions
  double mean_outside_mass = 0;
  int negative_entries = 0;
  bool passed() const {
    return shape_ok && upper_triangle_violations == 0 && row_sum_violations == 0 && negative_entries == 0;
  }
};

// data: [layer, head, K, K] with value_count floats.
FlowChecks check_flow_matrices(const float* data, std::size_t value_count, int layer_count, int head_count,
                               int k, int expected_k = kDefaultFlowPositions, double tolerance = 1e-5);

struct FlowAverage {
  int sample_count = 0, layer_count = 0, head_count = 0, k = 0;
  std::vector<float> mean;  // [layer, head, K, K]
  std::vector<float> std;   // [layer, head, K, K], population std over samples (numpy's np.std)
};

// data: [sample, layer, head, K, K]; NaN entries are skipped.
FlowAverage average_flow_matrices(const float* data, int sample_count, int layer_count, int head_count, int k);

struct RankedHead {
  int layer = 0, head = 0;
  double value = 0;
  int rank = 0;  // 1 = best
};

enum class FlowScoreKind { flow, hub_score, skip, composite };
const char* flow_score_name(FlowScoreKind kind);

// Highest first; ties by (layer, head); NaN values last.
std::vector<RankedHead> rank_heads(const std::vector<double>& values, int layer_count, int head_count);
std::vector<RankedHead> rank_heads(const FlowRunScores& scores, FlowScoreKind kind);

struct PhaseCriterion {
  std::string name;   // what was tested, in words
  double value = 0;   // the measured quantity
  double threshold = 0;
  bool passed = false;
};

// The earlier pipeline's criteria, on a run scored from averaged matrices: share of heads with max > 0.4
// above 10%; mean std across problems < 0.2 (needs `average`, else fails with value NaN); max hub score >
// 0.2; top composite > 0.6; top-10 mean composite > 2 x bottom-50 mean (fewer heads: top/bottom
// min(10, n) / min(50, n)).
std::vector<PhaseCriterion> flow_phase_criteria(const FlowRunScores& scores, const FlowAverage* average);

}  // namespace headscope::analysis
