// Deterministic annealing of the soft IB with cluster splitting (Rose 1998). β rises geometrically; at
// each β every cluster is duplicated with a small seeded perturbation, a few trial iterations show which
// copies move apart (the linearly unstable clusters), those are re-converged and kept when the split's
// immediate gain (p_a+p_b)·JS_π(q(y|a), q(y|b)) clears the tolerance (and the optional finite-sample bias
// c·(|Y|−1)/(2N)) and both halves hold at least min_size steps; the others merge back. Clusters that
// shrink below min_size are reabsorbed into their parent (surface tension). Every event and the curve
// over the β grid are recorded. A split's critical β comes from the copies' growth factor λ̂ per
// iteration (β_c ≈ β/λ̂, since the linearised map scales with β), or by bisection on the stability test.
// A cluster whose λ̂·β'/β is far below 1 is not re-tested at β' (re-tested at least every 12 steps).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/analysis/ib/ib_problem.h"
#include "core/analysis/ib/soft_ib.h"

namespace headscope::analysis::ib {

struct AnnealOptions {
  double beta_min = 0.5;
  double beta_max = 200.0;           // the last step is exactly beta_max
  double beta_ratio = 1.02;          // geometric step of the β grid
  int clusters_max = 64;             // no split beyond this many clusters
  double min_size = 50;              // steps; smaller clusters are reabsorbed (0 = off)
  double gain_tolerance = 1e-6;      // nats: a split's immediate gain must exceed this
  double bias_constant = 0;          // c in c·(|Y|−1)/(2N); 0 = no finite-sample bias threshold
  double perturbation = 0.02;        // relative size of the seeded split perturbation of q(t|x)
  int trial_iterations = 24;         // iterations that measure whether duplicated copies move apart
  int max_iterations = 3000;         // per convergence; more is flagged as non-convergence
  double tolerance = 1e-10;          // convergence: max |Δq(t|x)| per iteration
  int refine_steps = 0;              // bisection steps on a split's critical β; 0 = estimate it as β/λ̂
  std::uint64_t seed = 1;
  int threads = 1;                   // 0 = all hardware threads
};

enum class EventKind { split, reabsorb, merge_back, nonconverged };
const char* event_kind_name(EventKind kind);

// One row of the bifurcation history.
struct TransitionEvent {
  EventKind kind = EventKind::split;
  double beta = 0;           // grid β at which it happened
  double beta_critical = 0;  // split: refined critical β (== beta when not refined); others: beta
  int cluster_count = 0;     // K after the event
  double info_xt = 0;        // I(X;T) after the event
  double info_ty = 0;        // I(T;Y) after the event
  double gain = 0;           // immediate gain (p_a+p_b)·JS_π of the split concerned; 0 for nonconverged
  int parent = -1;           // split: the cluster that split; reabsorb: the cluster that absorbed
  int cluster = -1;          // split: the new cluster; reabsorb / merge_back: the cluster concerned
  double size_a = 0;         // steps in the two halves (split / merge_back / reabsorb)
  double size_b = 0;
  int iterations = 0;        // iterations of the convergence concerned
};

struct CurvePoint {
  double beta = 0;
  double info_xt = 0;
  double info_ty = 0;
  double cluster_entropy = 0;  // H(T)
  int cluster_count = 0;
  bool converged = true;
  int iterations = 0;
};

struct AnnealResult {
  SoftClustering clustering;          // the solution at beta_max
  std::vector<int> cluster_id;        // [t] stable id of each final cluster (0 = the first cluster)
  std::vector<int> cluster_parent;    // [t] id of the cluster it split from (-1 for cluster 0)
  std::vector<TransitionEvent> history;
  std::vector<CurvePoint> curve;      // one point per grid β
  double info_xy = 0;                 // I(X;Y), the ceiling of I(T;Y)
  double split_gain_floor = 0;        // max(gain_tolerance, bias threshold) actually used
};

using EventCallback = std::function<void(const TransitionEvent&)>;

// After each step of the β grid: where the annealing is (for progress lines).
struct AnnealStep {
  std::size_t steps_done = 0;
  std::size_t step_count = 0;  // of the whole grid
  double beta = 0;
  int cluster_count = 0;
};
using StepCallback = std::function<void(const AnnealStep&)>;

AnnealResult anneal(const IbProblem& problem, const AnnealOptions& options, const EventCallback& on_event = {},
                    const StepCallback& on_step = {});

// The β grid anneal() walks: beta_min·ratio^k below beta_max, then beta_max.
std::vector<double> beta_grid(const AnnealOptions& options);

}  // namespace headscope::analysis::ib
