// Scores of K x K flow matrices (METRICS.md, "K×K flow matrices"): the attention among K chosen positions
// (latent steps, pause tokens, or the last K), row i = the attending position, column j = the attended one.
// Per head: flow, hub score and position, skip, sequential flow, composite and functional type (both
// normalised over all heads of the run); checks of a run's matrices; averages over samples with std; head
// rankings; the earlier pipeline's phase criteria as pass/fail items, literally and as the CODI seed
// computed them (row maxima, functional types, the top/bottom groups as fractions of small models).
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
  double sequential = 0;  // sum_{i>=1} A[i, i-1] / sum_{j<=i} A (the seed's "diagonal+1"; 0 when the denominator is 0)
  double max_value = 0;   // largest entry of the matrix
  double composite = 0;   // 0.4 flow + 0.4 hub_norm + 0.2 skip_norm; NaN until normalised over a run
  int functional_type = 0;  // FunctionalType; set with the composite
};

// A head's functional type: the largest of its min-max normalised {flow, hub, skip, sequential} scores
// (normalised over every head of the run like the composite's terms; a NaN score never wins), ties in
// this order. Declared once: the names index the stored /analysis/flow/functional_type codes.
enum class FunctionalType { flow, hub, skip, sequential };
inline constexpr int kFunctionalTypeCount = 4;
const char* functional_type_name(FunctionalType type);
// The number codes as stored ("0 flow, 1 hub, 2 skip, 3 sequential").
std::string functional_type_codes();

// matrix: [K, K]. The composite is left NaN (it needs the whole run).
FlowHeadScores score_flow_matrix(const float* matrix, int k);

// composite = 0.4 flow + 0.4 (hub - hub_min) / (hub_max - hub_min) + 0.2 (skip - skip_min) / (skip_max -
// skip_min), min and max over every head of the run (NaN scores skipped); a normalised term is 0 when
// max == min. The run records the bounds it used.
struct FlowNormalization {
  double hub_min = 0, hub_max = 0;
  double skip_min = 0, skip_max = 0;
  double flow_min = 0, flow_max = 0;              // for the functional type only (the composite takes flow as is)
  double sequential_min = 0, sequential_max = 0;  // for the functional type only
  static constexpr const char* kDescription =
      "composite = 0.4*flow + 0.4*hub_norm + 0.2*skip_norm; hub_norm and skip_norm are min-max normalised over "
      "all heads of the run (0 when max == min); hub score = population variance of column sums; functional type = "
      "the largest of the min-max normalised flow, hub, skip, sequential (ties in that order)";
};

struct FlowRunScores {
  int layer_count = 0, head_count = 0, k = 0;
  std::vector<FlowHeadScores> heads;  // [layer, head]
  std::vector<double> row_max;        // [layer, head, attending] largest entry of each row (the seed's criterion 1)
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
// Sets every head's composite and functional type with the given bounds.
void apply_flow_normalization(std::vector<FlowHeadScores>& heads, const FlowNormalization& normalization);

// The earlier pipeline's concentration test on composites sorted descending (NaN already dropped): the mean
// of the top min(10, n) and of the bottom min(50, n). Both NaN when there is none.
struct CompositeTopBottom {
  double top_mean = 0, bottom_mean = 0;
};
CompositeTopBottom composite_top_bottom(const std::vector<double>& descending);

// The top and bottom groups of the phase-2 criteria for a model of `head_count` heads. With 100 heads or
// more, the seed's top 10 and bottom 50; below that (the seed's 10 and 50 would overlap or cover every
// head) fractions: top max(1, round(10 % of the heads)), bottom max(1, floor(half of the heads)).
struct TopBottomCounts {
  int top = 0, bottom = 0, heads = 0;
  bool fractions = false;    // the small-model rule was used
  std::string describe() const;  // e.g. "top 2 / bottom 8 of 16 heads (10 % / 50 %: fewer than 100 heads)"
};
TopBottomCounts top_bottom_counts(int head_count);
// Means of the first counts.top and the last counts.bottom of `descending` (each cut to its size).
CompositeTopBottom composite_top_bottom(const std::vector<double>& descending, const TopBottomCounts& counts);

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

enum class FlowScoreKind { flow, hub_score, skip, composite, sequential };
inline constexpr int kFlowScoreKindCount = 5;
const char* flow_score_name(FlowScoreKind kind);
double flow_score_value(const FlowHeadScores& scores, FlowScoreKind kind);

// Highest first; ties by (layer, head); NaN values last.
std::vector<RankedHead> rank_heads(const std::vector<double>& values, int layer_count, int head_count);
std::vector<RankedHead> rank_heads(const FlowRunScores& scores, FlowScoreKind kind);

struct PhaseCriterion {
  std::string name;   // what was tested, in words
  double value = 0;   // the measured quantity
  double threshold = 0;
  bool passed = false;
  int phase = 0;      // the seed's phase (1 or 2); 0 in the literal list
  std::string key;    // short stable name in the seed's list (sharp_rows, sharp_heads, mean_std, max_hub,
                      // top_composite, top_bottom, type_span); the `compare` table's row labels
};

// The earlier pipeline's criteria, on a run scored from averaged matrices: share of heads with max > 0.4
// above 10%; mean std across problems < 0.2 (needs `average`, else fails with value NaN); max hub score >
// 0.2; top composite > 0.6; top-10 mean composite > 2 x bottom-50 mean (fewer heads: top/bottom
// min(10, n) / min(50, n)).
std::vector<PhaseCriterion> flow_phase_criteria(const FlowRunScores& scores, const FlowAverage* average);

inline constexpr double kSharpAttention = 0.4;  // criterion 1's "max > 0.4"
// The seed's criteria as `headscope analyze`, the flow view and `compare` show them, in this order:
// phase 1: (1) share of row maxima > 0.4 over [layer, head, attending] > 10 % (the seed's own computation:
// np.max over the last axis of the mean matrices), (1, per head) share of heads whose matrix max > 0.4 >
// 10 %, (2) mean std across problems < 0.2 (NaN and failed without `average`), (3) max hub score > 0.2;
// phase 2: (1) top composite > 0.6, (2) top-group mean composite > 2 x bottom-group mean (top_bottom_counts),
// (3) the top group spans more than one functional type (value: the number of types in it).
std::vector<PhaseCriterion> seed_phase_criteria(const FlowRunScores& scores, const FlowAverage* average);
// The share of row maxima above kSharpAttention, over every row of every head (NaN when there is none).
double sharp_row_share(const FlowRunScores& scores);
// The functional types of the `top` best heads by composite: how many heads of each type [kFunctionalTypeCount].
std::vector<int> top_functional_types(const FlowRunScores& scores, int top);

}  // namespace headscope::analysis
