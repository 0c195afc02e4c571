// Per-step cluster assignment and per-cluster summaries of a finished IB run: size in steps, the soft
// label distribution q(y|t), hard label counts, and the most typical example steps.
#pragma once
#include <cstdint>
#include <vector>

#include "core/analysis/ib/anneal.h"

namespace headscope::analysis::ib {

// [N] index (0..K-1) of each step's most probable cluster, argmax_t q(t|x(step)), lowest index on ties.
std::vector<int> hard_assignment(const SoftClustering& clustering, const std::vector<int>& step_to_x);
// [N] q(t|x(step)) of each step's cluster t = assignment[step] (from hard_assignment).
std::vector<double> assigned_membership(const SoftClustering& clustering, const std::vector<int>& step_to_x,
                                        const std::vector<int>& assignment);

struct ClusterSummary {
  int id = -1;
  int parent = -1;
  double mass = 0;                        // q(t)
  std::int64_t size = 0;                  // steps assigned to it (hard)
  std::vector<double> label_distribution; // q(y|t) [y]
  std::vector<std::int64_t> label_counts; // hard counts of the assigned steps' labels [y]
  int majority_label = -1;
  std::vector<std::int64_t> examples;     // step indices with the highest q(t|x), at most examples_per_cluster
};

std::vector<ClusterSummary> summarize_clusters(const AnnealResult& result, const std::vector<int>& step_to_x,
                                               const std::vector<int>& labels, int label_count,
                                               int examples_per_cluster = 8);

}  // namespace headscope::analysis::ib
