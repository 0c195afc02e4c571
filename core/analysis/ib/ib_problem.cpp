// IbProblem construction, row merging, information measures, and the maximal correlation ρ (the second
// singular value of Q = p(x,y)/sqrt(p(x)p(y)), found as the largest eigenvalue of QᵀQ with the trivial
// direction sqrt(p(y)) deflated; the symmetric eigenproblem is solved by cyclic Jacobi rotations).
#include "core/analysis/ib/ib_problem.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

namespace headscope::analysis::ib {

IbProblem problem_from_joint(const std::vector<double>& joint, int x_count, int y_count, double step_count) {
  if (x_count <= 0 || y_count <= 0 || joint.size() != static_cast<size_t>(x_count) * y_count)
    throw std::invalid_argument("joint p(x,y): expected " + std::to_string(x_count) + "x" +
                                std::to_string(y_count) + " entries, got " + std::to_string(joint.size()));
  double total = 0;
  for (double v : joint) {
    if (!(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("joint p(x,y): negative or non-finite entry");
    total += v;
  }
  if (total <= 0) throw std::invalid_argument("joint p(x,y): no mass");
  IbProblem problem;
  problem.x_count = x_count;
  problem.y_count = y_count;
  problem.step_count = step_count;
  problem.p_x.assign(x_count, 0.0);
  problem.p_y_given_x.assign(joint.size(), 1.0 / y_count);
  for (int x = 0; x < x_count; ++x) {
    double row = 0;
    for (int y = 0; y < y_count; ++y) row += joint[static_cast<size_t>(x) * y_count + y];
    problem.p_x[x] = row / total;
    if (row > 0)
      for (int y = 0; y < y_count; ++y)
        problem.p_y_given_x[static_cast<size_t>(x) * y_count + y] = joint[static_cast<size_t>(x) * y_count + y] / row;
  }
  prepare_problem(problem);
  return problem;
}

void prepare_problem(IbProblem& problem) {
  problem.label_neg_entropy.assign(problem.x_count, 0.0);
  for (int x = 0; x < problem.x_count; ++x)
    problem.label_neg_entropy[x] = -entropy(&problem.p_y_given_x[static_cast<size_t>(x) * problem.y_count], problem.y_count);
}

CompressedProblem merge_identical_rows(const IbProblem& problem) {
  CompressedProblem out;
  out.problem.y_count = problem.y_count;
  out.problem.step_count = problem.step_count;
  out.compressed_index.assign(problem.x_count, -1);
  std::map<std::vector<double>, int> row_index;  // exact equality: merging is only exact for equal rows
  for (int x = 0; x < problem.x_count; ++x) {
    const double* row = &problem.p_y_given_x[static_cast<size_t>(x) * problem.y_count];
    std::vector<double> key(row, row + problem.y_count);
    auto [it, inserted] = row_index.emplace(std::move(key), out.problem.x_count);
    if (inserted) {
      out.problem.p_x.push_back(0.0);
      out.problem.p_y_given_x.insert(out.problem.p_y_given_x.end(), row, row + problem.y_count);
      ++out.problem.x_count;
    }
    out.problem.p_x[it->second] += problem.p_x[x];
    out.compressed_index[x] = it->second;
  }
  prepare_problem(out.problem);
  return out;
}

std::vector<double> label_marginal(const IbProblem& problem) {
  std::vector<double> p_y(problem.y_count, 0.0);
  for (int x = 0; x < problem.x_count; ++x)
    for (int y = 0; y < problem.y_count; ++y)
      p_y[y] += problem.p_x[x] * problem.p_y_given_x[static_cast<size_t>(x) * problem.y_count + y];
  return p_y;
}

double mutual_information_xy(const IbProblem& problem) {
  const std::vector<double> p_y = label_marginal(problem);
  double info = 0;
  for (int x = 0; x < problem.x_count; ++x)
    if (problem.p_x[x] > 0)
      info += problem.p_x[x] * kl_divergence(&problem.p_y_given_x[static_cast<size_t>(x) * problem.y_count],
                                             p_y.data(), problem.y_count);
  return info;
}

// Eigenvalues of a symmetric n×n matrix (row-major, destroyed) by cyclic Jacobi rotations.
static std::vector<double> symmetric_eigenvalues(std::vector<double> a, int n) {
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) off += a[i * n + j] * a[i * n + j];
    if (off < 1e-30) break;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // A <- A·J, then Jᵀ·A
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  std::vector<double> values(n);
  for (int i = 0; i < n; ++i) values[i] = a[i * n + i];
  return values;
}

double maximal_correlation(const IbProblem& problem) {
  const int ny = problem.y_count;
  const std::vector<double> p_y = label_marginal(problem);
  // QᵀQ(y, y') = Σ_x p(x) p(y|x) p(y'|x) / sqrt(p(y) p(y')), minus the trivial sqrt(p(y))·sqrt(p(y'))ᵀ.
  std::vector<double> gram(static_cast<size_t>(ny) * ny, 0.0);
  for (int x = 0; x < problem.x_count; ++x) {
    const double* row = &problem.p_y_given_x[static_cast<size_t>(x) * ny];
    for (int y = 0; y < ny; ++y)
      for (int z = 0; z < ny; ++z) gram[y * ny + z] += problem.p_x[x] * row[y] * row[z];
  }
  for (int y = 0; y < ny; ++y)
    for (int z = 0; z < ny; ++z) {
      const double scale = std::sqrt(p_y[y] * p_y[z]);
      gram[y * ny + z] = scale > 0 ? gram[y * ny + z] / scale - scale : 0.0;
    }
  const std::vector<double> values = symmetric_eigenvalues(std::move(gram), ny);
  const double rho_squared = std::max(0.0, *std::max_element(values.begin(), values.end()));
  return std::sqrt(std::min(1.0, rho_squared));
}

double critical_beta(const IbProblem& problem) {
  const double rho = maximal_correlation(problem);
  return rho > 1e-12 ? 1.0 / (rho * rho) : std::numeric_limits<double>::infinity();
}

double entropy(const double* p, int count) {
  double h = 0;
  for (int i = 0; i < count; ++i)
    if (p[i] > 0) h -= p[i] * std::log(p[i]);
  return h;
}

double kl_divergence(const double* p, const double* q, int count) {
  double kl = 0;
  for (int i = 0; i < count; ++i) {
    if (p[i] <= 0) continue;
    if (q[i] <= 0) return std::numeric_limits<double>::infinity();
    kl += p[i] * std::log(p[i] / q[i]);
  }
  return std::max(0.0, kl);
}

double js_divergence(const double* p, const double* q, int count, double weight_p, double weight_q) {
  const double total = weight_p + weight_q;
  if (total <= 0) return 0.0;
  const double pi_p = weight_p / total, pi_q = weight_q / total;
  double js = 0;
  for (int i = 0; i < count; ++i) {
    const double m = pi_p * p[i] + pi_q * q[i];
    if (p[i] > 0) js += pi_p * p[i] * std::log(p[i] / m);
    if (q[i] > 0) js += pi_q * q[i] * std::log(q[i] / m);
  }
  return std::max(0.0, js);
}

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

}  // namespace headscope::analysis::ib
