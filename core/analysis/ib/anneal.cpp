// Deterministic annealing with cluster splitting: the β loop, the split trial, surface tension and the
// bisection of a split's critical β. Section index:
//   1. helpers (duplication with a seeded perturbation, copy separation, the stability test)
//   2. Annealer: converge, surface tension, split attempt, refinement, recording
//   3. anneal(), beta_grid()
#include "core/analysis/ib/anneal.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>

#include "core/analysis/ib/parallel.h"

namespace headscope::analysis::ib {

const char* event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::split: return "split";
    case EventKind::reabsorb: return "reabsorb";
    case EventKind::merge_back: return "merge_back";
    case EventKind::nonconverged: return "nonconverged";
  }
  return "?";
}

std::vector<double> beta_grid(const AnnealOptions& options) {
  if (!(options.beta_min > 0) || !(options.beta_max >= options.beta_min) || !(options.beta_ratio > 1))
    throw std::invalid_argument("IB annealing: need 0 < beta_min <= beta_max and beta_ratio > 1");
  std::vector<double> grid;
  for (int k = 0;; ++k) {
    const double beta = options.beta_min * std::pow(options.beta_ratio, k);
    if (beta >= options.beta_max * (1 - 1e-12)) break;
    grid.push_back(beta);
  }
  grid.push_back(options.beta_max);
  return grid;
}

// ---------------------------------------------------------------------------------------------------
// 1. helpers
namespace {

// Appends a copy of each listed cluster: q(t|x)·(1+δη_x)/2 stays in t, q(t|x)·(1−δη_x)/2 goes to the
// copy, η_x uniform in [−1, 1] from a stream seeded by (seed, step, cluster id).
void duplicate_clusters(const IbProblem& problem, SoftClustering& clustering, const std::vector<int>& clusters,
                        const std::vector<int>& ids, double delta, std::uint64_t seed, std::uint64_t step) {
  const int nt = clustering.cluster_count, added = static_cast<int>(clusters.size());
  const int wide = nt + added;
  std::vector<double> membership(static_cast<size_t>(problem.x_count) * wide, 0.0);
  std::vector<SplitMix64> streams;
  for (int c : clusters)
    streams.emplace_back(seed ^ (0x9E3779B97F4A7C15ULL * (step + 1)) ^ (0xD1B54A32D192ED03ULL * (ids[c] + 1)));
  for (int x = 0; x < problem.x_count; ++x) {
    const double* old_row = &clustering.membership[static_cast<size_t>(x) * nt];
    double* row = &membership[static_cast<size_t>(x) * wide];
    std::copy(old_row, old_row + nt, row);
    for (int k = 0; k < added; ++k) {
      const int t = clusters[k];
      const double eta = 2 * streams[k].uniform() - 1;
      row[nt + k] = old_row[t] * 0.5 * (1 - delta * eta);
      row[t] = old_row[t] * 0.5 * (1 + delta * eta);
    }
  }
  clustering.membership = std::move(membership);
  clustering.cluster_count = wide;
  update_marginals(problem, clustering);
}

// L1 distance between q(y|a) and q(y|b).
double separation(const SoftClustering& clustering, int y_count, int a, int b) {
  double sum = 0;
  for (int y = 0; y < y_count; ++y)
    sum += std::abs(clustering.label_given_cluster[static_cast<size_t>(a) * y_count + y] -
                    clustering.label_given_cluster[static_cast<size_t>(b) * y_count + y]);
  return sum;
}

double split_gain(const SoftClustering& clustering, int y_count, int a, int b) {
  const double ma = clustering.cluster_mass[a], mb = clustering.cluster_mass[b];
  return (ma + mb) * js_divergence(&clustering.label_given_cluster[static_cast<size_t>(a) * y_count],
                                   &clustering.label_given_cluster[static_cast<size_t>(b) * y_count], y_count, ma, mb);
}

// Runs `iterations` soft-IB iterations on a state whose clusters nt0+k are copies of originals[k]; returns
// each pair's growth factor per iteration of the copies' separation over the second half, λ̂. In the
// linear regime λ̂ is the top eigenvalue of the linearised IB map, ≈ β/β_c: λ̂ > 1 means the copies move
// apart (the cluster is unstable); 0 when they coincide exactly.
std::vector<double> separation_growth(const IbProblem& problem, double beta, SoftClustering& clustering, int nt0,
                                      const std::vector<int>& originals, int iterations, int threads) {
  const int pairs = static_cast<int>(originals.size());
  std::vector<double> at_half(pairs, 0.0);
  iterations = std::max(2, iterations);
  const int half = iterations / 2;
  for (int it = 1; it <= iterations; ++it) {
    iterate(problem, beta, clustering, threads);
    if (it == half)
      for (int k = 0; k < pairs; ++k) at_half[k] = separation(clustering, problem.y_count, originals[k], nt0 + k);
  }
  std::vector<double> growth(pairs, 0.0);
  for (int k = 0; k < pairs; ++k) {
    const double now = separation(clustering, problem.y_count, originals[k], nt0 + k);
    if (now > 1e-13 && at_half[k] > 0) growth[k] = std::pow(now / at_half[k], 1.0 / (iterations - half));
  }
  return growth;
}

bool moves_apart(double growth) { return growth > 1 + 1e-10; }

}  // namespace

// ---------------------------------------------------------------------------------------------------
// 2. Annealer
namespace {

class Annealer {
 public:
  Annealer(const IbProblem& problem, const AnnealOptions& options, const EventCallback& on_event, const StepCallback& on_step)
      : problem_(problem), options_(options), on_event_(on_event), on_step_(on_step), threads_(resolve_thread_count(options.threads)) {}

  AnnealResult run() {
    result_.info_xy = mutual_information_xy(problem_);
    const double bias = options_.bias_constant > 0 && problem_.step_count > 0
                            ? options_.bias_constant * (problem_.y_count - 1) / (2 * problem_.step_count) : 0.0;
    result_.split_gain_floor = std::max(options_.gain_tolerance, bias);
    state_ = trivial_clustering(problem_);
    ids_ = {0};
    parents_ = {-1};
    last_stable_beta_[0] = options_.beta_min;
    const std::vector<double> grid = beta_grid(options_);
    for (size_t step = 0; step < grid.size(); ++step) {
      step_ = step;
      beta_ = grid[step];
      const ConvergeStats stats = converge_now(options_.max_iterations);
      apply_surface_tension();
      if (state_.cluster_count < options_.clusters_max) try_splits();
      const IbMeasures m = measure(problem_, state_);
      result_.curve.push_back({beta_, m.info_xt, m.info_ty, m.cluster_entropy, state_.cluster_count, stats.converged,
                               stats.iterations});
      if (on_step_) on_step_({step + 1, grid.size(), beta_, state_.cluster_count});
    }
    result_.clustering = state_;
    result_.cluster_id = ids_;
    result_.cluster_parent = parents_;
    return std::move(result_);
  }

 private:
  int threads() const { return threads_; }

  double steps_of(const SoftClustering& clustering, int t) const {
    return clustering.cluster_mass[t] * problem_.step_count;
  }

  // Converges the current state at beta_, drops dead clusters, records non-convergence.
  ConvergeStats converge_now(int max_iterations) {
    const ConvergeStats stats = converge(problem_, beta_, state_, max_iterations, options_.tolerance, threads());
    drop_dead_clusters(state_, ids_, parents_);
    if (!stats.converged) record_nonconverged(stats);
    return stats;
  }

  // At most one non-convergence event per β step.
  void record_nonconverged(const ConvergeStats& stats) {
    if (nonconverged_step_ == static_cast<std::int64_t>(step_)) return;
    nonconverged_step_ = static_cast<std::int64_t>(step_);
    TransitionEvent event = make_event(EventKind::nonconverged, -1, -1, 0, 0, 0);
    event.iterations = stats.iterations;
    record(event);
  }

  void drop_dead_clusters(SoftClustering& clustering, std::vector<int>& ids, std::vector<int>& parents) {
    const std::vector<int> kept = remove_empty_clusters(problem_, clustering);
    if (kept.size() == ids.size()) return;
    std::vector<int> kept_ids, kept_parents;
    for (int t : kept) {
      kept_ids.push_back(ids[t]);
      kept_parents.push_back(parents[t]);
    }
    ids = std::move(kept_ids);
    parents = std::move(kept_parents);
  }

  // Surface tension: the smallest cluster under min_size goes back into its parent (or, when the parent
  // is gone, into the cluster whose merge costs least), until none is left under min_size.
  void apply_surface_tension() {
    if (options_.min_size <= 0 || problem_.step_count <= 0) return;
    for (;;) {
      const int nt = state_.cluster_count;
      if (nt <= 1) return;
      int smallest = -1;
      for (int t = 0; t < nt; ++t)
        if (steps_of(state_, t) < options_.min_size && (smallest < 0 || state_.cluster_mass[t] < state_.cluster_mass[smallest]))
          smallest = t;
      if (smallest < 0) return;
      int into = -1;
      for (int t = 0; t < nt; ++t)
        if (t != smallest && ids_[t] == parents_[smallest]) into = t;
      if (into < 0) {
        double best = 0;
        for (int t = 0; t < nt; ++t) {
          if (t == smallest) continue;
          const double cost = split_gain(state_, problem_.y_count, t, smallest);
          if (into < 0 || cost < best) into = t, best = cost;
        }
      }
      const double size_small = steps_of(state_, smallest), size_into = steps_of(state_, into);
      const int small_id = ids_[smallest], into_id = ids_[into];
      const double gain = split_gain(state_, problem_.y_count, into, smallest);
      merge_clusters(problem_, state_, into, smallest);
      back_off(into_id);
      ids_.erase(ids_.begin() + smallest);
      parents_.erase(parents_.begin() + smallest);
      const ConvergeStats stats = converge(problem_, beta_, state_, options_.max_iterations, options_.tolerance, threads());
      drop_dead_clusters(state_, ids_, parents_);
      TransitionEvent event = make_event(EventKind::reabsorb, into_id, small_id, gain, size_into, size_small);
      event.iterations = stats.iterations;
      record(event);
    }
  }

  // Duplicates the clusters due for a test (see due_for_trial), keeps the copies that move apart and pass
  // the gain and size tests, merges the others back.
  void try_splits() {
    const SoftClustering before = state_;
    const int nt = state_.cluster_count;
    std::vector<int> due;
    for (int t = 0; t < nt; ++t)
      if (due_for_trial(ids_[t])) due.push_back(t);
    if (due.empty()) return;
    SoftClustering trial = state_;
    duplicate_clusters(problem_, trial, due, ids_, options_.perturbation, options_.seed, step_);
    const std::vector<double> growth =
        separation_growth(problem_, beta_, trial, nt, due, options_.trial_iterations, threads());
    std::vector<char> apart(due.size(), 0);
    std::vector<int> unstable;
    std::map<int, double> unstable_growth;
    for (size_t k = 0; k < due.size(); ++k) {
      const int id = ids_[due[k]];
      growth_[id] = {growth[k], beta_, step_};
      if (moves_apart(growth[k])) {
        apart[k] = 1;
        unstable.push_back(due[k]);
        unstable_growth[due[k]] = growth[k];
      } else {
        last_stable_beta_[id] = beta_;
      }
    }
    if (unstable.empty()) return;

    // Re-converge with only the unstable clusters duplicated, from the trial's memberships.
    SoftClustering split = fold_stable_copies(trial, nt, due, apart);
    const ConvergeStats stats = converge(problem_, beta_, split, options_.max_iterations, options_.tolerance, threads());
    struct Candidate { int original; int copy; double gain; double size_a; double size_b; };
    std::vector<Candidate> candidates;
    for (size_t k = 0; k < unstable.size(); ++k) {
      const int a = unstable[k], b = nt + static_cast<int>(k);
      candidates.push_back({a, b, split_gain(split, problem_.y_count, a, b), steps_of(split, a), steps_of(split, b)});
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& l, const Candidate& r) { return l.gain > r.gain; });
    std::vector<Candidate> accepted, rejected;
    const bool sizes_checked = options_.min_size > 0 && problem_.step_count > 0;
    for (const Candidate& c : candidates) {
      const bool big_enough = !sizes_checked || (c.size_a >= options_.min_size && c.size_b >= options_.min_size);
      const bool room = nt + static_cast<int>(accepted.size()) < options_.clusters_max;
      if (c.gain > result_.split_gain_floor && big_enough && room) {
        accepted.push_back(c);
        continue;
      }
      rejected.push_back(c);
      if (!room) continue;  // capped, not rejected on its merits: nothing to record
      back_off(ids_[c.original]);
      const EventKind kind = c.gain > result_.split_gain_floor ? EventKind::reabsorb : EventKind::merge_back;
      record_once(kind, ids_[c.original], c.gain, c.size_a, c.size_b, stats.iterations);
    }
    if (accepted.empty()) {
      state_ = before;
      return;
    }
    // Build the accepted state: rejected copies fold back into their originals (highest column first).
    std::vector<int> copies_to_fold;
    for (const Candidate& c : rejected) copies_to_fold.push_back(c.copy);
    std::sort(copies_to_fold.rbegin(), copies_to_fold.rend());
    std::vector<int> new_ids = ids_, new_parents = parents_;
    std::map<int, int> copy_id;
    for (size_t k = 0; k < unstable.size(); ++k) {
      new_ids.push_back(-1);
      new_parents.push_back(-1);
    }
    for (const Candidate& c : accepted) {
      new_ids[c.copy] = next_id_;
      new_parents[c.copy] = ids_[c.original];
      copy_id[c.original] = next_id_++;
    }
    for (int column : copies_to_fold) {
      int original = -1;
      for (const Candidate& c : rejected)
        if (c.copy == column) original = c.original;
      merge_clusters(problem_, split, original, column);
      new_ids.erase(new_ids.begin() + column);
      new_parents.erase(new_parents.begin() + column);
    }
    ConvergeStats final_stats = stats;
    if (!copies_to_fold.empty())
      final_stats = converge(problem_, beta_, split, options_.max_iterations, options_.tolerance, threads());
    state_ = std::move(split);
    const std::vector<int> old_ids = ids_;
    ids_ = std::move(new_ids);
    parents_ = std::move(new_parents);
    drop_dead_clusters(state_, ids_, parents_);
    if (!final_stats.converged) record_nonconverged(final_stats);
    for (const Candidate& c : accepted) {
      const int new_id = copy_id[c.original];
      last_stable_beta_[new_id] = beta_;
      TransitionEvent event = make_event(EventKind::split, old_ids[c.original], new_id, c.gain, c.size_a, c.size_b);
      event.beta_critical = options_.refine_steps > 0
                                ? refine_critical_beta(before, c.original, old_ids[c.original])
                                : growth_critical_beta(unstable_growth[c.original], old_ids[c.original]);
      event.iterations = final_stats.iterations;
      last_stable_beta_[old_ids[c.original]] = beta_;
      record(event);
    }
  }

  // The trial state [x, nt + due] with the copies of stable clusters folded back: [x, nt + unstable].
  SoftClustering fold_stable_copies(const SoftClustering& trial, int nt, const std::vector<int>& due,
                                    const std::vector<char>& apart) const {
    int unstable = 0;
    for (char a : apart) unstable += a ? 1 : 0;
    const int wide = nt + unstable, trial_wide = trial.cluster_count;
    SoftClustering folded;
    folded.cluster_count = wide;
    folded.membership.assign(static_cast<size_t>(problem_.x_count) * wide, 0.0);
    for (int x = 0; x < problem_.x_count; ++x) {
      const double* row = &trial.membership[static_cast<size_t>(x) * trial_wide];
      double* out = &folded.membership[static_cast<size_t>(x) * wide];
      std::copy(row, row + nt, out);
      int next = nt;
      for (size_t k = 0; k < due.size(); ++k) {
        if (apart[k]) out[next++] = row[nt + k];
        else out[due[k]] += row[nt + k];
      }
    }
    update_marginals(problem_, folded);
    return folded;
  }

  // A cluster whose split was just refused (too small, too little gain) or that just reabsorbed a child
  // is not offered a split again for 12 β steps: near min_size the same split would be tried every step.
  void back_off(int id) { growth_[id] = {0.0, beta_, step_}; }

  // A cluster is tested when never tested, when its last test is 12 steps old, or when its measured
  // growth factor, scaled with β (λ ∝ β in the linear regime), comes within 5% of instability.
  bool due_for_trial(int id) const {
    const auto it = growth_.find(id);
    if (it == growth_.end()) return true;
    const GrowthRecord& g = it->second;
    return step_ >= g.step + 12 || g.growth * beta_ / g.beta >= 0.95;
  }

  // β_c ≈ β/λ̂ (exact for a split of the trivial solution in the linear regime), kept within the bracket
  // [last β where the cluster was seen stable, β].
  double growth_critical_beta(double growth, int id) {
    const double lo = last_stable_beta_.count(id) ? std::min(beta_, last_stable_beta_[id]) : options_.beta_min;
    return std::clamp(beta_ / growth, lo, beta_);
  }

  // Bisection (geometric) of the β at which cluster `column` of `before` becomes linearly unstable,
  // between the last β where it was seen stable and beta_.
  double refine_critical_beta(const SoftClustering& before, int column, int id) {
    double lo = std::min(beta_, last_stable_beta_.count(id) ? last_stable_beta_[id] : options_.beta_min);
    double hi = beta_;
    if (options_.refine_steps <= 0 || lo >= hi) return beta_;
    for (int k = 0; k < options_.refine_steps; ++k) {
      const double mid = std::sqrt(lo * hi);
      SoftClustering probe = before;
      converge(problem_, mid, probe, std::min(options_.max_iterations, 4 * options_.trial_iterations + 100),
               options_.tolerance, threads());
      const int nt = probe.cluster_count;
      if (column >= nt) return beta_;
      duplicate_clusters(problem_, probe, {column}, ids_of_columns(nt), 1e-4, options_.seed ^ 0x5EEDULL, step_);
      const std::vector<double> growth =
          separation_growth(problem_, mid, probe, nt, {column}, 2 * options_.trial_iterations, threads());
      (moves_apart(growth[0]) ? hi : lo) = mid;
    }
    return std::sqrt(lo * hi);
  }

  std::vector<int> ids_of_columns(int nt) const {
    std::vector<int> ids(nt);
    for (int t = 0; t < nt; ++t) ids[t] = t;
    return ids;
  }

  TransitionEvent make_event(EventKind kind, int parent, int cluster, double gain, double size_a, double size_b) {
    const IbMeasures m = measure(problem_, state_);
    TransitionEvent event;
    event.kind = kind;
    event.beta = beta_;
    event.beta_critical = beta_;
    event.cluster_count = state_.cluster_count;
    event.info_xt = m.info_xt;
    event.info_ty = m.info_ty;
    event.gain = gain;
    event.parent = parent;
    event.cluster = cluster;
    event.size_a = size_a;
    event.size_b = size_b;
    return event;
  }

  // Records a rejected split once per run of consecutive β steps for the same cluster and kind.
  void record_once(EventKind kind, int id, double gain, double size_a, double size_b, int iterations) {
    const auto key = std::make_pair(id, static_cast<int>(kind));
    const auto it = last_rejection_step_.find(key);
    const bool repeat = it != last_rejection_step_.end() && it->second + 1 == step_;
    last_rejection_step_[key] = step_;
    if (repeat) return;
    TransitionEvent event = make_event(kind, -1, id, gain, size_a, size_b);
    event.iterations = iterations;
    record(event);
  }

  void record(const TransitionEvent& event) {
    result_.history.push_back(event);
    if (on_event_) on_event_(event);
  }

  const IbProblem& problem_;
  const AnnealOptions& options_;
  const EventCallback& on_event_;
  const StepCallback& on_step_;
  int threads_;
  AnnealResult result_;
  SoftClustering state_;
  std::vector<int> ids_, parents_;
  std::map<int, double> last_stable_beta_;
  struct GrowthRecord { double growth; double beta; size_t step; };
  std::map<int, GrowthRecord> growth_;
  std::map<std::pair<int, int>, size_t> last_rejection_step_;
  int next_id_ = 1;
  size_t step_ = 0;
  std::int64_t nonconverged_step_ = -1;
  double beta_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------
// 3. entry points
AnnealResult anneal(const IbProblem& problem, const AnnealOptions& options, const EventCallback& on_event,
                    const StepCallback& on_step) {
  if (problem.x_count <= 0 || problem.y_count <= 0) throw std::invalid_argument("IB annealing: empty problem");
  if (options.clusters_max < 1) throw std::invalid_argument("IB annealing: clusters_max must be at least 1");
  return Annealer(problem, options, on_event, on_step).run();
}

}  // namespace headscope::analysis::ib
