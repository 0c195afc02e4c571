// Soft IB updates. One pass over the points computes each point's new q(t|x) from the current marginals
// and, in the same pass, the chunk's partial sums of the new marginals; partial sums cover fixed chunks
// of 64 points and are added in chunk order, so results are identical for any thread count. Clusters
// are processed 4 at a time (GCC vector extensions; an AVX2 clone on x86-64) with a vectorised exp
// (simd.h, ~1 ulp); logits log q(t) − β·KL are normalised with a log-sum-exp that treats −inf as an
// exact zero.
#include "core/analysis/ib/soft_ib.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/analysis/ib/parallel.h"
#include "core/analysis/ib/simd.h"

namespace headscope::analysis::ib {
namespace {

using simd::Double4;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kChunk = 64;  // points per partial sum, and per piece of parallel work
// x·t·y per pass below which one thread is faster than handing half the chunks to a pool helper
// (a pass of 2^16 multiply-adds takes tens of microseconds).
constexpr long kParallelMinWork = 1L << 16;

int threads_for(const IbProblem& problem, int clusters, int threads) {
  return static_cast<long>(problem.x_count) * clusters * std::max(1, problem.y_count) >= kParallelMinWork ? threads : 1;
}

int padded(int clusters) { return (clusters + 3) / 4 * 4; }

// What one membership update reads of the current marginals, padded to whole vectors of 4 clusters:
// log q(t) [t] and log q(y|t) transposed to [y, t] (−inf for zeros). Padding clusters have log q(t) = −inf
// and log q(y|t) = 0, so they receive no membership.
struct Tables {
  int padded_clusters = 0;
  std::vector<double> log_mass;   // [padded t]
  std::vector<double> log_label;  // [y, padded t]
};

Tables make_tables(const SoftClustering& clustering, int ny) {
  const int nt = clustering.cluster_count, ntp = padded(nt);
  Tables tables;
  tables.padded_clusters = ntp;
  tables.log_mass.assign(ntp, kNegInf);
  tables.log_label.assign(static_cast<size_t>(ny) * ntp, 0.0);
  for (int t = 0; t < nt; ++t) {
    tables.log_mass[t] = clustering.cluster_mass[t] > 0 ? std::log(clustering.cluster_mass[t]) : kNegInf;
    for (int y = 0; y < ny; ++y) {
      const double q = clustering.label_given_cluster[static_cast<size_t>(t) * ny + y];
      tables.log_label[static_cast<size_t>(y) * ntp + t] = q > 0 ? std::log(q) : kNegInf;
    }
  }
  return tables;
}

// New q(t|x) of one point into row [padded t] (zeros in the padding); false (row untouched) when no
// cluster can hold the point, which cannot happen at a fixed point.
inline __attribute__((always_inline)) bool membership_row(const Tables& tables, const double* label, int ny, double h,
                                                          double beta, double* row) {
  const int ntp = tables.padded_clusters;
  // cross[t] = Σ_{y: p(y|x)>0} p(y|x) log q(y|t): −inf exactly when KL = +inf. Zero p are skipped, so
  // 0·(−inf) never occurs.
  constexpr int kMaxTerms = 16;  // labels whose terms are kept in registers; more go through row
  double weight[kMaxTerms];
  const double* log_q[kMaxTerms];
  int terms = 0;
  bool folded = false;  // row holds the sum of earlier terms
  for (int y = 0; y < ny; ++y) {
    if (!(label[y] > 0)) continue;
    if (terms == kMaxTerms) {  // many labels: add the terms so far into row and start again
      for (int t = 0; t < ntp; t += 4) {
        Double4 cross = folded ? HEADSCOPE_LOAD4(row + t) : HEADSCOPE_SPLAT4(0.0);
        for (int k = 0; k < terms; ++k) cross += HEADSCOPE_SPLAT4(weight[k]) * HEADSCOPE_LOAD4(log_q[k] + t);
        HEADSCOPE_STORE4(row + t, cross);
      }
      folded = true;
      terms = 0;
    }
    weight[terms] = label[y];
    log_q[terms++] = &tables.log_label[static_cast<size_t>(y) * ntp];
  }
  // KL = h − cross ≥ 0 (clamped against rounding); logit = log q(t) − β·KL; KL = +inf gives −inf.
  const Double4 h4 = HEADSCOPE_SPLAT4(h), zero = HEADSCOPE_SPLAT4(0.0), inf = HEADSCOPE_SPLAT4(kInf),
                neg_inf = HEADSCOPE_SPLAT4(kNegInf), beta4 = HEADSCOPE_SPLAT4(beta);
  Double4 best4 = neg_inf;
  for (int t = 0; t < ntp; t += 4) {
    Double4 cross = folded ? HEADSCOPE_LOAD4(row + t) : zero;
    for (int k = 0; k < terms; ++k) cross += HEADSCOPE_SPLAT4(weight[k]) * HEADSCOPE_LOAD4(log_q[k] + t);
    Double4 kl = h4 - cross;
    kl = kl < zero ? zero : kl;
    const Double4 logit = kl == inf ? neg_inf : HEADSCOPE_LOAD4(&tables.log_mass[t]) - beta4 * kl;
    HEADSCOPE_STORE4(row + t, logit);
    best4 = logit > best4 ? logit : best4;
  }
  const double best = std::max(std::max(best4[0], best4[1]), std::max(best4[2], best4[3]));
  if (best == kNegInf) return false;
  const Double4 shift = HEADSCOPE_SPLAT4(best);
  Double4 sum4 = zero;
  for (int t = 0; t < ntp; t += 4) {
    Double4 e = HEADSCOPE_LOAD4(row + t) - shift;
    simd::exp_nonpositive(e);  // −inf (exact zeros) → 0
    HEADSCOPE_STORE4(row + t, e);
    sum4 += e;
  }
  const Double4 inverse = HEADSCOPE_SPLAT4(1 / ((sum4[0] + sum4[1]) + (sum4[2] + sum4[3])));
  for (int t = 0; t < ntp; t += 4) HEADSCOPE_STORE4(row + t, HEADSCOPE_LOAD4(row + t) * inverse);
  return true;
}

// Copies row [padded t] into member [t] (its first nt entries); returns max |row − member| before.
inline __attribute__((always_inline)) double replace_row(const double* row, double* member, int nt) {
  Double4 change4 = HEADSCOPE_SPLAT4(0.0);
  int t = 0;
  for (; t + 4 <= nt; t += 4) {
    const Double4 updated = HEADSCOPE_LOAD4(row + t), difference = updated - HEADSCOPE_LOAD4(member + t);
    const Double4 magnitude = difference < 0 ? -difference : difference;
    change4 = magnitude > change4 ? magnitude : change4;
    HEADSCOPE_STORE4(member + t, updated);
  }
  double change = std::max(std::max(change4[0], change4[1]), std::max(change4[2], change4[3]));
  for (; t < nt; ++t) {
    change = std::max(change, std::abs(row[t] - member[t]));
    member[t] = row[t];
  }
  return change;
}

// Points [x0, x1). With `tables`, each point's q(t|x) is replaced by its update (the largest change is
// returned); with `mass`, p(x)·q(t|x) of the (new) memberships is added to mass [padded t] and
// joint [y, padded t].
HEADSCOPE_KERNEL_CLONES
double process_points(const IbProblem& problem, const std::vector<double>& neg_entropy, const Tables* tables,
                      double beta, SoftClustering& clustering, int x0, int x1, double* mass, double* joint) {
  const int ny = problem.y_count, nt = clustering.cluster_count, ntp = padded(nt);
  std::vector<double> row(static_cast<size_t>(ntp), 0.0);
  double max_change = 0;
  for (int x = x0; x < x1; ++x) {
    double* member = &clustering.membership[static_cast<size_t>(x) * nt];
    const double* label = &problem.p_y_given_x[static_cast<size_t>(x) * ny];
    if (tables && membership_row(*tables, label, ny, neg_entropy[x], beta, row.data())) {
      max_change = std::max(max_change, replace_row(row.data(), member, nt));
    } else {
      std::copy(member, member + nt, row.begin());
      std::fill(row.begin() + nt, row.end(), 0.0);
    }
    const double px = problem.p_x[x];
    if (!mass || px <= 0) continue;
    const Double4 px4 = HEADSCOPE_SPLAT4(px);
    for (int t = 0; t < ntp; t += 4) {
      const Double4 weight = px4 * HEADSCOPE_LOAD4(&row[t]);
      HEADSCOPE_STORE4(mass + t, HEADSCOPE_LOAD4(mass + t) + weight);
      for (int y = 0; y < ny; ++y) {
        double* out = joint + static_cast<size_t>(y) * ntp + t;
        HEADSCOPE_STORE4(out, HEADSCOPE_LOAD4(out) + weight * HEADSCOPE_SPLAT4(label[y]));
      }
    }
  }
  return max_change;
}

const std::vector<double>& neg_entropy_of(const IbProblem& problem, std::vector<double>& computed) {
  if (problem.label_neg_entropy.size() == static_cast<size_t>(problem.x_count)) return problem.label_neg_entropy;
  IbProblem copy = problem;
  prepare_problem(copy);
  computed = std::move(copy.label_neg_entropy);
  return computed;
}

// One pass over all points: memberships (when update_memberships) and/or marginals (when
// update_marginals; from the new memberships if both). Returns the largest membership change.
double pass(const IbProblem& problem, double beta, SoftClustering& clustering, int threads, bool update_memberships,
            bool update_marginals) {
  const int nx = problem.x_count, ny = problem.y_count, nt = clustering.cluster_count, ntp = padded(nt);
  std::vector<double> computed;
  const std::vector<double>& neg_entropy = neg_entropy_of(problem, computed);
  Tables tables;
  if (update_memberships) tables = make_tables(clustering, ny);
  const int chunks = std::max(1, (nx + kChunk - 1) / kChunk);
  const size_t stride = static_cast<size_t>(ntp) * (ny + 1);  // per chunk: [t] mass then [y, t] joint
  std::vector<double> partial(update_marginals ? chunks * stride : 0, 0.0);
  std::vector<double> chunk_change(chunks, 0.0);
  parallel_pieces(chunks, threads_for(problem, nt, threads), [&](std::int64_t c) {
    double* mass = update_marginals ? &partial[c * stride] : nullptr;
    const int x0 = static_cast<int>(c) * kChunk, x1 = std::min(nx, x0 + kChunk);
    chunk_change[c] = process_points(problem, neg_entropy, update_memberships ? &tables : nullptr, beta, clustering, x0, x1,
                                     mass, mass ? mass + ntp : nullptr);
  });
  if (update_marginals) {
    std::vector<double> total(stride, 0.0);
    for (int c = 0; c < chunks; ++c)
      for (size_t i = 0; i < stride; ++i) total[i] += partial[c * stride + i];
    clustering.cluster_mass.assign(total.begin(), total.begin() + nt);
    clustering.label_given_cluster.assign(static_cast<size_t>(nt) * ny, 0.0);
    for (int t = 0; t < nt; ++t) {
      const double m = clustering.cluster_mass[t];
      for (int y = 0; y < ny; ++y)
        clustering.label_given_cluster[static_cast<size_t>(t) * ny + y] = m > 0 ? total[ntp + static_cast<size_t>(y) * ntp + t] / m : 0.0;
    }
  }
  return *std::max_element(chunk_change.begin(), chunk_change.end());
}

}  // namespace

SoftClustering trivial_clustering(const IbProblem& problem) {
  SoftClustering clustering;
  clustering.cluster_count = 1;
  clustering.membership.assign(problem.x_count, 1.0);
  update_marginals(problem, clustering);
  return clustering;
}

void update_marginals(const IbProblem& problem, SoftClustering& clustering, int threads) {
  pass(problem, 0, clustering, threads, false, true);
}

double update_memberships(const IbProblem& problem, double beta, SoftClustering& clustering, int threads) {
  return pass(problem, beta, clustering, threads, true, false);
}

double iterate(const IbProblem& problem, double beta, SoftClustering& clustering, int threads) {
  return pass(problem, beta, clustering, threads, true, true);
}

ConvergeStats converge(const IbProblem& problem, double beta, SoftClustering& clustering, int max_iterations,
                       double tolerance, int threads) {
  ConvergeStats stats;
  update_marginals(problem, clustering, threads);
  while (stats.iterations < max_iterations) {
    stats.last_change = iterate(problem, beta, clustering, threads);
    ++stats.iterations;
    if (stats.last_change < tolerance) {
      stats.converged = true;
      break;
    }
  }
  return stats;
}

IbMeasures measure(const IbProblem& problem, const SoftClustering& clustering) {
  const int nt = clustering.cluster_count, ny = problem.y_count;
  IbMeasures measures;
  for (int x = 0; x < problem.x_count; ++x) {
    const double px = problem.p_x[x];
    if (px <= 0) continue;
    for (int t = 0; t < nt; ++t) {
      const double m = clustering.membership[static_cast<size_t>(x) * nt + t];
      if (m > 0 && clustering.cluster_mass[t] > 0) measures.info_xt += px * m * std::log(m / clustering.cluster_mass[t]);
    }
  }
  const std::vector<double> p_y = label_marginal(problem);
  for (int t = 0; t < nt; ++t)
    if (clustering.cluster_mass[t] > 0)
      measures.info_ty += clustering.cluster_mass[t] *
                          kl_divergence(&clustering.label_given_cluster[static_cast<size_t>(t) * ny], p_y.data(), ny);
  measures.cluster_entropy = entropy(clustering.cluster_mass.data(), nt);
  measures.info_xt = std::max(0.0, measures.info_xt);
  return measures;
}

std::vector<int> remove_empty_clusters(const IbProblem& problem, SoftClustering& clustering, double min_mass) {
  const int nt = clustering.cluster_count;
  std::vector<int> kept;
  for (int t = 0; t < nt; ++t)
    if (clustering.cluster_mass[t] > min_mass) kept.push_back(t);
  if (static_cast<int>(kept.size()) == nt) return kept;
  const int nk = static_cast<int>(kept.size());
  std::vector<double> membership(static_cast<size_t>(problem.x_count) * nk);
  for (int x = 0; x < problem.x_count; ++x) {
    double sum = 0;
    for (int k = 0; k < nk; ++k) sum += clustering.membership[static_cast<size_t>(x) * nt + kept[k]];
    for (int k = 0; k < nk; ++k) {
      const double m = clustering.membership[static_cast<size_t>(x) * nt + kept[k]];
      membership[static_cast<size_t>(x) * nk + k] = sum > 0 ? m / sum : 1.0 / nk;
    }
  }
  clustering.membership = std::move(membership);
  clustering.cluster_count = nk;
  update_marginals(problem, clustering);
  return kept;
}

void merge_clusters(const IbProblem& problem, SoftClustering& clustering, int into, int from) {
  const int nt = clustering.cluster_count;
  std::vector<double> membership(static_cast<size_t>(problem.x_count) * (nt - 1));
  for (int x = 0; x < problem.x_count; ++x) {
    const double* old_row = &clustering.membership[static_cast<size_t>(x) * nt];
    double* row = &membership[static_cast<size_t>(x) * (nt - 1)];
    int k = 0;
    for (int t = 0; t < nt; ++t) {
      if (t == from) continue;
      row[k++] = old_row[t] + (t == into ? old_row[from] : 0.0);
    }
  }
  clustering.membership = std::move(membership);
  clustering.cluster_count = nt - 1;
  update_marginals(problem, clustering);
}

}  // namespace headscope::analysis::ib
