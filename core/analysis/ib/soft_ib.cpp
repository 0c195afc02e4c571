// Soft IB updates. Marginals are summed over fixed chunks of 256 points in a fixed order, so results are
// identical for any thread count; memberships are independent per point. Logits log q(t) − β·KL are
// normalised with a log-sum-exp that treats −inf as an exact zero.
#include "core/analysis/ib/soft_ib.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/analysis/ib/parallel.h"

namespace headscope::analysis::ib {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kChunk = 256;                 // points per partial sum
constexpr long kParallelMinWork = 16384;    // x·t below which threads cost more than they save

int parts_for(const IbProblem& problem, int clusters, int threads) {
  return static_cast<long>(problem.x_count) * clusters * std::max(1, problem.y_count) >= kParallelMinWork
             ? threads : 1;
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
  const int nx = problem.x_count, ny = problem.y_count, nt = clustering.cluster_count;
  const int chunks = (nx + kChunk - 1) / kChunk;
  const size_t stride = static_cast<size_t>(nt) * (ny + 1);  // per chunk: [t] mass then [t, y] joint
  std::vector<double> partial(static_cast<size_t>(std::max(chunks, 1)) * stride, 0.0);
  parallel_ranges(0, chunks, parts_for(problem, nt, threads), [&](int, std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      double* mass = &partial[c * stride];
      double* joint = mass + nt;
      const int x_end = std::min<int>(nx, static_cast<int>(c + 1) * kChunk);
      for (int x = static_cast<int>(c) * kChunk; x < x_end; ++x) {
        const double px = problem.p_x[x];
        if (px <= 0) continue;
        const double* member = &clustering.membership[static_cast<size_t>(x) * nt];
        const double* label = &problem.p_y_given_x[static_cast<size_t>(x) * ny];
        for (int t = 0; t < nt; ++t) {
          const double weight = px * member[t];
          if (weight == 0) continue;
          mass[t] += weight;
          double* row = joint + static_cast<size_t>(t) * ny;
          for (int y = 0; y < ny; ++y) row[y] += weight * label[y];
        }
      }
    }
  });
  clustering.cluster_mass.assign(nt, 0.0);
  clustering.label_given_cluster.assign(static_cast<size_t>(nt) * ny, 0.0);
  for (int c = 0; c < chunks; ++c) {
    const double* mass = &partial[c * stride];
    for (int t = 0; t < nt; ++t) clustering.cluster_mass[t] += mass[t];
    for (size_t i = 0; i < static_cast<size_t>(nt) * ny; ++i) clustering.label_given_cluster[i] += mass[nt + i];
  }
  for (int t = 0; t < nt; ++t) {
    double* row = &clustering.label_given_cluster[static_cast<size_t>(t) * ny];
    const double mass = clustering.cluster_mass[t];
    for (int y = 0; y < ny; ++y) row[y] = mass > 0 ? row[y] / mass : 0.0;
  }
}

double update_memberships(const IbProblem& problem, double beta, SoftClustering& clustering, int threads) {
  const int nx = problem.x_count, ny = problem.y_count, nt = clustering.cluster_count;
  std::vector<double> computed_neg_entropy;
  const std::vector<double>* neg_entropy = &problem.label_neg_entropy;
  if (neg_entropy->size() != static_cast<size_t>(nx)) {
    IbProblem copy = problem;
    prepare_problem(copy);
    computed_neg_entropy = std::move(copy.label_neg_entropy);
    neg_entropy = &computed_neg_entropy;
  }
  // log q(y|t) transposed to [y, t] (−inf for zeros) so the cross term is an axpy over t, and log q(t).
  std::vector<double> log_label(static_cast<size_t>(ny) * nt);
  std::vector<double> log_mass(nt);
  for (int t = 0; t < nt; ++t) {
    log_mass[t] = clustering.cluster_mass[t] > 0 ? std::log(clustering.cluster_mass[t]) : kNegInf;
    for (int y = 0; y < ny; ++y) {
      const double q = clustering.label_given_cluster[static_cast<size_t>(t) * ny + y];
      log_label[static_cast<size_t>(y) * nt + t] = q > 0 ? std::log(q) : kNegInf;
    }
  }
  const int parts = parts_for(problem, nt, threads);
  std::vector<double> part_change(parts, 0.0);
  parallel_ranges(0, nx, parts, [&](int part, std::int64_t x0, std::int64_t x1) {
    std::vector<double> logit(nt);
    double max_change = 0;
    for (std::int64_t x = x0; x < x1; ++x) {
      const double* label = &problem.p_y_given_x[static_cast<size_t>(x) * ny];
      // cross[t] = Σ_{y: p(y|x)>0} p(y|x) log q(y|t): −inf exactly when KL = +inf. Zero p are skipped,
      // so 0·(−inf) never occurs.
      std::fill(logit.begin(), logit.end(), 0.0);
      for (int y = 0; y < ny; ++y) {
        const double p = label[y];
        if (p <= 0) continue;
        const double* log_q = &log_label[static_cast<size_t>(y) * nt];
        for (int t = 0; t < nt; ++t) logit[t] += p * log_q[t];
      }
      const double h = (*neg_entropy)[x];
      double best = kNegInf;
      for (int t = 0; t < nt; ++t) {
        // KL = h − cross ≥ 0 (clamped against rounding); logit = log q(t) − β·KL, −inf stays −inf.
        const double kl = logit[t] == kNegInf ? std::numeric_limits<double>::infinity() : std::max(0.0, h - logit[t]);
        logit[t] = log_mass[t] == kNegInf || kl == std::numeric_limits<double>::infinity() ? kNegInf
                                                                                           : log_mass[t] - beta * kl;
        best = std::max(best, logit[t]);
      }
      double* member = &clustering.membership[static_cast<size_t>(x) * nt];
      if (best == kNegInf) continue;  // no cluster can hold x: keep its row (cannot happen for a fixed point)
      double sum = 0;
      for (int t = 0; t < nt; ++t) {
        const double shifted = logit[t] - best;           // −inf for exact zeros
        logit[t] = shifted < -745.2 ? 0.0 : std::exp(shifted);  // below −745 exp underflows to 0 anyway
        sum += logit[t];
      }
      const double inverse = 1 / sum;
      for (int t = 0; t < nt; ++t) {
        const double updated = logit[t] * inverse;
        max_change = std::max(max_change, std::abs(updated - member[t]));
        member[t] = updated;
      }
    }
    part_change[part] = max_change;
  });
  return *std::max_element(part_change.begin(), part_change.end());
}

ConvergeStats converge(const IbProblem& problem, double beta, SoftClustering& clustering, int max_iterations,
                       double tolerance, int threads) {
  ConvergeStats stats;
  update_marginals(problem, clustering, threads);
  while (stats.iterations < max_iterations) {
    stats.last_change = update_memberships(problem, beta, clustering, threads);
    update_marginals(problem, clustering, threads);
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
