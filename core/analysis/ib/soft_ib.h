// Soft Information Bottleneck (Tishby, Pereira & Bialek 1999) at one β: the self-consistent equations
//   q(t|x) ∝ q(t)·exp(−β·KL[p(y|x) ‖ q(y|t)]),  q(t) = Σ_x p(x)q(t|x),  q(y|t) = Σ_x p(y|x)p(x)q(t|x)/q(t)
// iterated to a fixed point in log space. KL = +inf (p(y|x) > 0 where q(y|t) = 0) gives q(t|x) = 0
// exactly. Used by the annealer (anneal.h) and directly on small explicit problems.
#pragma once
#include <vector>

#include "core/analysis/ib/ib_problem.h"

namespace headscope::analysis::ib {

// A soft clustering T of X and the marginals it implies. Row-major: [x, t] and [t, y].
struct SoftClustering {
  int cluster_count = 0;
  std::vector<double> membership;           // q(t|x) [x, t]
  std::vector<double> cluster_mass;         // q(t) [t]
  std::vector<double> label_given_cluster;  // q(y|t) [t, y]
};

struct IbMeasures {
  double info_xt = 0;          // I(X;T)
  double info_ty = 0;          // I(T;Y)
  double cluster_entropy = 0;  // H(T)
};

struct ConvergeStats {
  int iterations = 0;
  bool converged = false;
  double last_change = 0;  // max |Δq(t|x)| of the last iteration
};

// One cluster holding everything (the β → 0 solution), marginals filled in.
SoftClustering trivial_clustering(const IbProblem& problem);

// q(t) and q(y|t) from q(t|x).
void update_marginals(const IbProblem& problem, SoftClustering& clustering, int threads = 1);
// New q(t|x) from q(t), q(y|t) at β; returns max |Δq(t|x)|. Marginals are left stale.
double update_memberships(const IbProblem& problem, double beta, SoftClustering& clustering, int threads = 1);
// One iteration: new q(t|x) from the current marginals, then the marginals of the new q(t|x) (one pass
// over the points); returns max |Δq(t|x)|.
double iterate(const IbProblem& problem, double beta, SoftClustering& clustering, int threads = 1);
// Alternates both updates until max |Δq(t|x)| < tolerance or max_iterations; marginals are fresh on return.
ConvergeStats converge(const IbProblem& problem, double beta, SoftClustering& clustering, int max_iterations,
                       double tolerance, int threads = 1);

IbMeasures measure(const IbProblem& problem, const SoftClustering& clustering);

// Drops clusters with q(t) <= min_mass (their memberships are ~0); returns the kept old indices.
std::vector<int> remove_empty_clusters(const IbProblem& problem, SoftClustering& clustering, double min_mass = 1e-14);
// Folds cluster `from` into `into` (memberships added), removes `from`, refreshes marginals.
void merge_clusters(const IbProblem& problem, SoftClustering& clustering, int into, int from);

}  // namespace headscope::analysis::ib
