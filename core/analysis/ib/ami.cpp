// Adjusted mutual information. E[MI] = Σ_ij Σ_n (n/N)·log(N·n/(a_i·b_j))·P(n), where P(n) is the
// hypergeometric probability of a cell count n given row sum a_i and column sum b_j, from a table of
// log-factorials (exact in double for N up to millions).
#include "core/analysis/ib/ami.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace headscope::analysis::ib {
namespace {

struct Contingency {
  long total = 0;
  std::vector<long> row_sums, column_sums;
  std::map<std::pair<int, int>, long> cells;
};

Contingency contingency(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("labelings of different lengths");
  std::map<int, int> a_index, b_index;
  for (int v : a) a_index.emplace(v, 0);
  for (int v : b) b_index.emplace(v, 0);
  int next = 0;
  for (auto& [v, i] : a_index) i = next++;
  next = 0;
  for (auto& [v, i] : b_index) i = next++;
  Contingency table;
  table.total = static_cast<long>(a.size());
  table.row_sums.assign(a_index.size(), 0);
  table.column_sums.assign(b_index.size(), 0);
  for (size_t k = 0; k < a.size(); ++k) {
    const int i = a_index[a[k]], j = b_index[b[k]];
    ++table.row_sums[i];
    ++table.column_sums[j];
    ++table.cells[{i, j}];
  }
  return table;
}

double sums_entropy(const std::vector<long>& sums, long total) {
  double h = 0;
  for (long s : sums)
    if (s > 0) h -= static_cast<double>(s) / total * std::log(static_cast<double>(s) / total);
  return h;
}

double mutual_information(const Contingency& table) {
  double mi = 0;
  const double n = static_cast<double>(table.total);
  for (const auto& [ij, count] : table.cells)
    mi += count / n * std::log(n * count / (static_cast<double>(table.row_sums[ij.first]) * table.column_sums[ij.second]));
  return std::max(0.0, mi);
}

double expected_mi(const Contingency& table) {
  const long n = table.total;
  std::vector<double> log_factorial(n + 1, 0.0);
  for (long k = 2; k <= n; ++k) log_factorial[k] = log_factorial[k - 1] + std::log(static_cast<double>(k));
  double emi = 0;
  for (long a : table.row_sums)
    for (long b : table.column_sums) {
      const double fixed = log_factorial[a] + log_factorial[b] + log_factorial[n - a] + log_factorial[n - b] - log_factorial[n];
      for (long k = std::max(1L, a + b - n); k <= std::min(a, b); ++k) {
        const double log_p = fixed - log_factorial[k] - log_factorial[a - k] - log_factorial[b - k] - log_factorial[n - a - b + k];
        emi += static_cast<double>(k) / n * std::log(static_cast<double>(n) * k / (static_cast<double>(a) * b)) * std::exp(log_p);
      }
    }
  return emi;
}

}  // namespace

double labeling_mutual_information(const std::vector<int>& a, const std::vector<int>& b) {
  return mutual_information(contingency(a, b));
}

double expected_mutual_information(const std::vector<int>& a, const std::vector<int>& b) {
  return expected_mi(contingency(a, b));
}

double adjusted_mutual_information(const std::vector<int>& a, const std::vector<int>& b) {
  const Contingency table = contingency(a, b);
  if (table.total == 0) return 1.0;
  if (table.row_sums.size() == table.column_sums.size() && table.row_sums.size() <= 1) return 1.0;
  const double mi = mutual_information(table), emi = expected_mi(table);
  const double mean_entropy = 0.5 * (sums_entropy(table.row_sums, table.total) + sums_entropy(table.column_sums, table.total));
  const double denominator = mean_entropy - emi;
  if (std::abs(denominator) < 1e-15) return mi - emi < 1e-15 ? 1.0 : 0.0;
  return (mi - emi) / denominator;
}

}  // namespace headscope::analysis::ib
