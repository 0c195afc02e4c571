// Cluster summaries of an IB run (see summary.h).
#include "core/analysis/ib/summary.h"

#include <algorithm>
#include <stdexcept>

namespace headscope::analysis::ib {

std::vector<int> hard_assignment(const SoftClustering& clustering, const std::vector<int>& step_to_x) {
  const int nt = clustering.cluster_count;
  std::vector<int> assignment(step_to_x.size(), 0);
  for (size_t i = 0; i < step_to_x.size(); ++i) {
    const double* row = &clustering.membership[static_cast<size_t>(step_to_x[i]) * nt];
    assignment[i] = static_cast<int>(std::max_element(row, row + nt) - row);
  }
  return assignment;
}

std::vector<double> assigned_membership(const SoftClustering& clustering, const std::vector<int>& step_to_x,
                                        const std::vector<int>& assignment) {
  if (assignment.size() != step_to_x.size()) throw std::invalid_argument("assigned_membership: steps and assignments differ in count");
  std::vector<double> membership(step_to_x.size());
  for (size_t i = 0; i < step_to_x.size(); ++i)
    membership[i] = clustering.membership[static_cast<size_t>(step_to_x[i]) * clustering.cluster_count + assignment[i]];
  return membership;
}

std::vector<ClusterSummary> summarize_clusters(const AnnealResult& result, const std::vector<int>& step_to_x,
                                               const std::vector<int>& labels, int label_count,
                                               int examples_per_cluster) {
  const SoftClustering& clustering = result.clustering;
  const int nt = clustering.cluster_count;
  if (labels.size() != step_to_x.size()) throw std::invalid_argument("summarize_clusters: labels and steps differ in count");
  const std::vector<int> assignment = hard_assignment(clustering, step_to_x);
  std::vector<ClusterSummary> summaries(nt);
  std::vector<std::vector<std::pair<double, std::int64_t>>> candidates(nt);  // (−q(t|x), step)
  for (int t = 0; t < nt; ++t) {
    ClusterSummary& s = summaries[t];
    s.id = result.cluster_id[t];
    s.parent = result.cluster_parent[t];
    s.mass = clustering.cluster_mass[t];
    s.label_distribution.assign(clustering.label_given_cluster.begin() + static_cast<size_t>(t) * label_count,
                                clustering.label_given_cluster.begin() + static_cast<size_t>(t + 1) * label_count);
    s.label_counts.assign(label_count, 0);
  }
  for (size_t i = 0; i < assignment.size(); ++i) {
    const int t = assignment[i];
    ++summaries[t].size;
    ++summaries[t].label_counts[labels[i]];
    candidates[t].push_back({-clustering.membership[static_cast<size_t>(step_to_x[i]) * nt + t], static_cast<std::int64_t>(i)});
  }
  for (int t = 0; t < nt; ++t) {
    ClusterSummary& s = summaries[t];
    s.majority_label = static_cast<int>(std::max_element(s.label_counts.begin(), s.label_counts.end()) - s.label_counts.begin());
    auto& c = candidates[t];
    const size_t keep = std::min<size_t>(c.size(), static_cast<size_t>(std::max(0, examples_per_cluster)));
    std::partial_sort(c.begin(), c.begin() + keep, c.end());
    for (size_t k = 0; k < keep; ++k) s.examples.push_back(c[k].second);
  }
  return summaries;
}

}  // namespace headscope::analysis::ib
