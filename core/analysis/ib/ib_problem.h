// The discrete input of the Information Bottleneck: p(x) and p(y|x) over a finite X, built from an
// explicit joint p(x,y) or by smoothing step embeddings (smoothing.h). Also the information measures
// every IB stage shares (entropy, KL, Jensen-Shannon) and the known first transition β_c = 1/ρ², where ρ
// is the maximal correlation of X and Y. All logarithms are natural: every quantity is in nats.
#pragma once
#include <cstdint>
#include <vector>

namespace headscope::analysis::ib {

struct IbProblem {
  int x_count = 0;
  int y_count = 0;
  std::vector<double> p_x;          // [x]       sums to 1
  std::vector<double> p_y_given_x;  // [x, y]    each row sums to 1
  double step_count = 0;            // steps the problem stands for: a cluster holds q(t)·step_count steps
  // Σ_y p(y|x) log p(y|x) per x [x], a cache for the IB updates: filled by prepare_problem() (every
  // constructor here calls it); the updates recompute it when its size does not match x_count.
  std::vector<double> label_neg_entropy;
};

// Fills the caches of a hand-built problem (label_neg_entropy).
void prepare_problem(IbProblem& problem);

// p(x,y) given as a [x, y] table of non-negative weights (normalised here). Rows with no mass are kept
// with p(x) = 0 and a uniform p(y|x). Throws std::invalid_argument on a bad shape or negative entry.
IbProblem problem_from_joint(const std::vector<double>& joint, int x_count, int y_count, double step_count = 0);

// Points x with identical p(y|x) rows are interchangeable in every IB update (q(t|x) depends on x only
// through p(y|x)), so merging them, with their p(x) summed, changes no result and shrinks the work.
struct CompressedProblem {
  IbProblem problem;
  std::vector<int> compressed_index;  // [original x] -> its row in `problem`
};
CompressedProblem merge_identical_rows(const IbProblem& problem);

std::vector<double> label_marginal(const IbProblem& problem);  // p(y) [y]
double mutual_information_xy(const IbProblem& problem);         // I(X;Y)

// ρ: the second singular value of Q(x,y) = p(x,y)/sqrt(p(x)p(y)) (the first is 1).
double maximal_correlation(const IbProblem& problem);
// β_c = 1/ρ²: below it the trivial one-cluster solution is the only IB optimum. +inf when ρ = 0.
double critical_beta(const IbProblem& problem);

// Measures on probability vectors of equal length `count`. Zero entries of p contribute nothing;
// kl_divergence is +inf where p > 0 and q = 0.
double entropy(const double* p, int count);
double kl_divergence(const double* p, const double* q, int count);
// JS_π(p, q) = π_p·KL(p‖m) + π_q·KL(q‖m), m = π_p·p + π_q·q, with π = (weight_p, weight_q)/sum.
double js_divergence(const double* p, const double* q, int count, double weight_p, double weight_q);

// A small deterministic generator (splitmix64): the same stream on every platform and standard library,
// which std::uniform_real_distribution does not promise.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();  // [0, 1)
 private:
  std::uint64_t state_;
};

}  // namespace headscope::analysis::ib
