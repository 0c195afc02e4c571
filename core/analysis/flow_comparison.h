// Model comparison on K×K flow scores: two runs (e.g. the GPT-2-style and the Llama-style sample model)
// over the same prompts, side by side — each model's composite distribution, heads over the composite
// threshold, hub positions over heads, concentration of the composite mass, a per-layer breakdown and the
// flow matrix averaged over heads and samples. Definitions and choices: docs/workbench.md, "Model comparison".
//
// Three steps, so that a viewer can fetch the averaged matrices without blocking: plan_flow_comparison
// pairs the runs' prompts by sample id (and checks their text and flow settings), the caller averages each
// run's flow matrices over the paired samples, and compare_flow scores both. compare_stores does all
// three on two open stores (the CLI, export and tests).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/analysis/flow_scores.h"
#include "core/store/layout.h"

namespace headscope::store {
class StoreReader;
}

namespace headscope::analysis {

// Raised when two runs cannot be compared (different prompts, flow sizes, no flow matrices); the message
// says why in words.
class ComparisonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the plan needs of one run: its name, shape, capture settings and sample list.
struct ComparedRun {
  std::string path;
  std::string label;                      // model name, else the file name
  store::RunSettings settings;            // the capture settings (flow selection, mode), as the reader decoded them
  int layer_count = 0, head_count = 0;
  int flow_size = 0;                      // K; 0 = the run stores no flow matrices
  std::vector<store::SampleInfo> samples;
};

// Prompts paired by sample id; a prompt's text is the metadata's "text" (else "question") when both runs
// record it. Runs whose samples all lack ids are paired by index.
struct FlowComparisonPlan {
  std::vector<std::int64_t> samples_a, samples_b;  // [pairs] sample indices of the common prompts, in A's order
  int only_a = 0, only_b = 0;                      // prompts one run has and the other lacks
  bool paired_by_index = false;
  std::string error;                               // non-empty: cannot compare (ComparisonError's message)
  std::vector<std::string> notes;                  // caveats that do not stop the comparison
};

// A run as the plan needs it: labelled by its model name, else by its file name.
ComparedRun compared_run(const std::string& path, const store::StoreLayout& layout, const store::Provenance& provenance,
                         std::vector<store::SampleInfo> samples);
ComparedRun compared_run(const store::StoreReader& reader);
// Two runs of the same model (e.g. two checkpoints) are labelled by their file names instead.
void distinguish_labels(ComparedRun& a, ComparedRun& b);

FlowComparisonPlan plan_flow_comparison(const ComparedRun& a, const ComparedRun& b);

enum class ComparisonNormalization {
  per_run,  // each run's composite min-max normalised over its own heads (what `headscope analyze` reports)
  joint,    // hub and skip normalised over the heads of both runs: one scale for both
};
const char* comparison_normalization_name(ComparisonNormalization normalization);

struct FlowComparisonOptions {
  double composite_threshold = 0.6;   // METRICS.md phase criterion "top composite > 0.6"
  double top_fraction = 0.1;          // concentration: share of the composite mass in the top 10% of heads
  ComparisonNormalization normalization = ComparisonNormalization::per_run;
};

struct LayerFlowSummary {
  int layer = 0;
  double mean_composite = 0, max_composite = 0;  // NaN when no head of the layer has a composite
  int heads_over_threshold = 0;
};

// One model's side of the comparison.
struct ModelFlowSummary {
  std::string label;
  int sample_count = 0, layer_count = 0, head_count = 0, k = 0;
  FlowRunScores scores;                     // scores of the sample-averaged matrices, composites per the option
  std::vector<RankedHead> ranking;          // by composite, best first
  std::vector<double> sorted_composites;    // descending, NaN dropped
  int heads_over_threshold = 0;             // composite > threshold
  std::vector<int> hub_counts;              // [K] heads whose hub position is k
  std::vector<int> hub_counts_over_threshold;  // [K] the same among heads over the threshold
  // Concentration of the composite mass (composites are >= 0):
  int top_count = 0;                        // max(1, ceil(top_fraction * heads))
  double top_share = 0;                     // sum of the top_count largest / sum of all; NaN when the sum is 0
  double gini = 0;                          // Gini coefficient over heads; NaN when the sum is 0
  CompositeTopBottom top_bottom;            // top-10 / bottom-50 means, literally (min(10, n), min(50, n))
  TopBottomCounts groups;                   // the phase criterion's groups (top_bottom_counts: fractions below 100 heads)
  CompositeTopBottom group_means;           // their means
  // The CODI seed's analysis:
  double mean_sequential = 0;               // over heads (NaN skipped)
  RankedHead top_sequential;                // the head with the largest sequential flow
  std::vector<int> type_counts;             // [kFunctionalTypeCount] heads of each functional type
  std::vector<int> top_type_counts;         // [kFunctionalTypeCount] the same among the top group by composite
  std::vector<PhaseCriterion> criteria;     // seed_phase_criteria (mean std NaN without the runs' std)
  std::vector<LayerFlowSummary> layers;     // [layer]
  std::vector<float> matrices;              // [layer, head, K, K] averaged over the compared samples
  std::vector<float> mean_matrix;           // [K, K] those averaged over heads (NaN skipped)
  int total_heads() const { return layer_count * head_count; }
};

struct FlowComparison {
  FlowComparisonOptions options;
  FlowComparisonPlan plan;
  ModelFlowSummary a, b;
  // Total-variation distance between the two hub-position distributions (shares of heads), in [0, 1].
  double hub_distance = 0;
};

// The flow matrices of `samples`, averaged (NaN skipped): [layer, head, K, K].
FlowAverage average_store_flow(const store::StoreReader& reader, const std::vector<std::int64_t>& samples);

// Scores both sides. `mean_a`, `mean_b`: [layer, head, K, K] averaged over the plan's samples of each run;
// `std_a`, `std_b` (optional, same shape): their std over samples, for the "mean std" criterion.
// Throws ComparisonError when the plan has an error or the shapes disagree with the runs.
FlowComparison compare_flow(const FlowComparisonPlan& plan, const ComparedRun& a, const std::vector<float>& mean_a,
                            const ComparedRun& b, const std::vector<float>& mean_b,
                            const FlowComparisonOptions& options = {}, const std::vector<float>* std_a = nullptr,
                            const std::vector<float>* std_b = nullptr);

// The three steps on two open stores. Throws ComparisonError.
FlowComparison compare_stores(const store::StoreReader& a, const store::StoreReader& b,
                              const FlowComparisonOptions& options = {});

// Gini coefficient of non-negative values (NaN skipped): sum_i (2i - n - 1) x_(i) / (n sum x), x ascending,
// i = 1..n. NaN when the sum is 0 or there is no value.
double gini_coefficient(std::vector<double> values);

// The `headscope compare` tables: the summary side by side, per layer, hub positions, the top heads.
std::string format_flow_comparison(const FlowComparison& comparison, int top = 5);

}  // namespace headscope::analysis
