// What one cluster of an IB run is made of, for the panel that opens when a cluster is clicked: its member
// steps, most typical first, and how each head behaves on them — a per-token metric (entropy, max
// attention, IAF …) averaged over the tokens of the cluster's steps, set against the same average over
// the tokens of every step, so the heads that behave differently in this cluster stand out. Plain arrays
// in and out; reading them from a capture store is ib_source.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::analysis::ib {

struct ClusterMember {
  std::int64_t step = 0;
  double membership = 0;  // q(t|x) of the step's input point for this cluster
};
// The steps with step_cluster == cluster, by membership (highest first), then by step index.
std::vector<ClusterMember> cluster_members(const std::vector<int>& step_cluster, const std::vector<double>& step_membership,
                                           int cluster);

// One step of a sample: its cluster and its token range in the sample, end exclusive.
struct StepTokens {
  int cluster = 0;
  std::int32_t start = 0, end = 0;
};

struct ClusterHeadProfile {
  std::string metric;
  int cluster_count = 0, layer_count = 0, head_count = 0;
  std::vector<double> cluster_mean;          // [cluster, layer, head] mean over the cluster's steps' tokens; NaN: none finite
  std::vector<double> overall_mean;          // [layer, head] mean over every step's tokens
  std::vector<std::int64_t> cluster_tokens;  // [cluster] tokens in the cluster's steps (a token in two steps counts twice)
  std::int64_t total_tokens = 0;

  // [layer, head] cluster mean − overall mean; NaN where either is NaN.
  std::vector<double> difference(int cluster) const;
};

// Sums a per-token metric over the steps of each cluster, one sample at a time (so a store is read once).
// Means are token-weighted: a long step weighs more than a short one. NaN values (IAF on prompt tokens)
// are skipped per head.
class ClusterHeadAccumulator {
 public:
  ClusterHeadAccumulator(int cluster_count, int layer_count, int head_count);
  // values: the sample's metric [token, layer, head]; steps outside [0, token_count) are clipped, steps
  // of a cluster outside [0, cluster_count) are ignored.
  void add_sample(const float* values, std::int32_t token_count, const std::vector<StepTokens>& steps);
  ClusterHeadProfile profile(const std::string& metric) const;

 private:
  int cluster_count_, layer_count_, head_count_;
  std::vector<double> sum_;              // [cluster, layer, head]
  std::vector<std::int64_t> count_;      // [cluster, layer, head] finite values summed
  std::vector<std::int64_t> tokens_;     // [cluster]
};

struct HeadDifference {
  store::HeadRef head;
  double cluster_mean = 0, overall_mean = 0, difference = 0;
};
// The `count` heads whose mean over the cluster differs most from the overall mean (largest |difference|,
// ties by layer then head); heads with a NaN difference are left out.
std::vector<HeadDifference> top_heads(const ClusterHeadProfile& profile, int cluster, int count);

}  // namespace headscope::analysis::ib
