// Cluster members and per-head cluster profiles (see cluster_heads.h).
#include "core/analysis/ib/cluster_heads.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace headscope::analysis::ib {

std::vector<ClusterMember> cluster_members(const std::vector<int>& step_cluster, const std::vector<double>& step_membership,
                                           int cluster) {
  if (!step_membership.empty() && step_membership.size() != step_cluster.size())
    throw std::invalid_argument("cluster_members: memberships and clusters differ in count");
  std::vector<ClusterMember> members;
  for (std::size_t i = 0; i < step_cluster.size(); ++i)
    if (step_cluster[i] == cluster)
      members.push_back({static_cast<std::int64_t>(i), step_membership.empty() ? std::nan("") : step_membership[i]});
  std::stable_sort(members.begin(), members.end(),
                   [](const ClusterMember& a, const ClusterMember& b) { return a.membership > b.membership; });
  return members;
}

std::vector<double> ClusterHeadProfile::difference(int cluster) const {
  const std::size_t heads = static_cast<std::size_t>(layer_count) * head_count;
  std::vector<double> out(heads, std::nan(""));
  if (cluster < 0 || cluster >= cluster_count) return out;
  for (std::size_t i = 0; i < heads; ++i) out[i] = cluster_mean[cluster * heads + i] - overall_mean[i];
  return out;
}

ClusterHeadAccumulator::ClusterHeadAccumulator(int cluster_count, int layer_count, int head_count)
    : cluster_count_(cluster_count), layer_count_(layer_count), head_count_(head_count) {
  if (cluster_count < 0 || layer_count < 0 || head_count < 0) throw std::invalid_argument("ClusterHeadAccumulator: negative size");
  const std::size_t cells = static_cast<std::size_t>(cluster_count) * layer_count * head_count;
  sum_.assign(cells, 0.0);
  count_.assign(cells, 0);
  tokens_.assign(cluster_count, 0);
}

void ClusterHeadAccumulator::add_sample(const float* values, std::int32_t token_count, const std::vector<StepTokens>& steps) {
  const std::size_t heads = static_cast<std::size_t>(layer_count_) * head_count_;
  for (const StepTokens& step : steps) {
    if (step.cluster < 0 || step.cluster >= cluster_count_) continue;
    const std::int32_t start = std::max<std::int32_t>(0, step.start), end = std::min(token_count, step.end);
    double* sum = &sum_[step.cluster * heads];
    std::int64_t* count = &count_[step.cluster * heads];
    for (std::int32_t token = start; token < end; ++token) {
      const float* row = values + token * heads;
      for (std::size_t h = 0; h < heads; ++h)
        if (std::isfinite(row[h])) {
          sum[h] += row[h];
          ++count[h];
        }
    }
    tokens_[step.cluster] += std::max(0, end - start);
  }
}

ClusterHeadProfile ClusterHeadAccumulator::profile(const std::string& metric) const {
  const std::size_t heads = static_cast<std::size_t>(layer_count_) * head_count_;
  ClusterHeadProfile out;
  out.metric = metric;
  out.cluster_count = cluster_count_;
  out.layer_count = layer_count_;
  out.head_count = head_count_;
  out.cluster_tokens = tokens_;
  out.cluster_mean.assign(sum_.size(), std::nan(""));
  out.overall_mean.assign(heads, std::nan(""));
  std::vector<double> total_sum(heads, 0.0);
  std::vector<std::int64_t> total_count(heads, 0);
  for (int c = 0; c < cluster_count_; ++c) {
    out.total_tokens += tokens_[c];
    for (std::size_t h = 0; h < heads; ++h) {
      const std::size_t i = c * heads + h;
      if (count_[i] > 0) out.cluster_mean[i] = sum_[i] / static_cast<double>(count_[i]);
      total_sum[h] += sum_[i];
      total_count[h] += count_[i];
    }
  }
  for (std::size_t h = 0; h < heads; ++h)
    if (total_count[h] > 0) out.overall_mean[h] = total_sum[h] / static_cast<double>(total_count[h]);
  return out;
}

std::vector<HeadDifference> top_heads(const ClusterHeadProfile& profile, int cluster, int count) {
  std::vector<HeadDifference> heads;
  if (cluster < 0 || cluster >= profile.cluster_count) return heads;
  const std::vector<double> difference = profile.difference(cluster);
  const std::size_t per_layer = static_cast<std::size_t>(profile.head_count);
  for (std::size_t i = 0; i < difference.size(); ++i) {
    if (std::isnan(difference[i])) continue;
    heads.push_back({{static_cast<int>(i / per_layer), static_cast<int>(i % per_layer)},
                     profile.cluster_mean[cluster * difference.size() + i], profile.overall_mean[i], difference[i]});
  }
  std::stable_sort(heads.begin(), heads.end(), [](const HeadDifference& a, const HeadDifference& b) {
    return std::abs(a.difference) > std::abs(b.difference);
  });
  if (static_cast<int>(heads.size()) > count) heads.resize(std::max(0, count));
  return heads;
}

}  // namespace headscope::analysis::ib
