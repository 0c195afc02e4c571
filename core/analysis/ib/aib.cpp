// Agglomerative IB: O(K³) greedy merging, K ≤ a few hundred, on cluster masses and label distributions.
#include "core/analysis/ib/aib.h"

#include <cmath>

#include <algorithm>
#include <stdexcept>

#include "core/analysis/ib/ib_problem.h"

namespace headscope::analysis::ib {

std::vector<AibMerge> agglomerate(const std::vector<double>& mass, const std::vector<double>& label_given_cluster,
                                  int y_count, const std::vector<int>& ids) {
  const int k0 = static_cast<int>(mass.size());
  if (label_given_cluster.size() != static_cast<size_t>(k0) * y_count || ids.size() != mass.size())
    throw std::invalid_argument("agglomerate: mass, q(y|t) and ids disagree in size");
  std::vector<double> weights = mass;
  std::vector<std::vector<double>> labels(k0);
  for (int t = 0; t < k0; ++t)
    labels[t].assign(label_given_cluster.begin() + static_cast<size_t>(t) * y_count,
                     label_given_cluster.begin() + static_cast<size_t>(t + 1) * y_count);
  std::vector<int> live_ids = ids;
  // I(T;Y) of the starting clustering, reduced by each merge's cost.
  std::vector<double> p_y(y_count, 0.0);
  for (int t = 0; t < k0; ++t)
    for (int y = 0; y < y_count; ++y) p_y[y] += weights[t] * labels[t][y];
  double info = 0;
  for (int t = 0; t < k0; ++t)
    if (weights[t] > 0) info += weights[t] * kl_divergence(labels[t].data(), p_y.data(), y_count);

  std::vector<AibMerge> merges;
  while (weights.size() > 1) {
    const int k = static_cast<int>(weights.size());
    int best_a = 0, best_b = 1;
    double best_cost = -1;
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) {
        const double cost = (weights[a] + weights[b]) *
                            js_divergence(labels[a].data(), labels[b].data(), y_count, weights[a], weights[b]);
        if (best_cost < 0 || cost < best_cost) best_cost = cost, best_a = a, best_b = b;
      }
    if (weights[best_b] > weights[best_a]) std::swap(best_a, best_b);  // the heavier one keeps its id
    const double wa = weights[best_a], wb = weights[best_b], w = wa + wb;
    for (int y = 0; y < y_count; ++y)
      labels[best_a][y] = w > 0 ? (wa * labels[best_a][y] + wb * labels[best_b][y]) / w : 0.0;
    weights[best_a] = w;
    info -= best_cost;
    merges.push_back({live_ids[best_a], live_ids[best_b], best_cost, k - 1, std::max(0.0, info)});
    weights.erase(weights.begin() + best_b);
    labels.erase(labels.begin() + best_b);
    live_ids.erase(live_ids.begin() + best_b);
  }
  return merges;
}

std::vector<ElbowRow> elbow_table(const std::vector<AibMerge>& merges, int cluster_count, double info_ty,
                                  const std::vector<double>& thresholds) {
  std::vector<ElbowRow> rows;
  for (double threshold : thresholds) {
    ElbowRow row;
    row.threshold = threshold;
    row.clusters_nats = 1;
    row.clusters_fraction = 1;
    bool nats_stopped = false, fraction_stopped = false;
    int clusters = cluster_count;
    for (const AibMerge& merge : merges) {
      if (!nats_stopped && merge.cost >= threshold) nats_stopped = true, row.clusters_nats = clusters;
      if (!fraction_stopped && info_ty > 0 && merge.cost / info_ty >= threshold)
        fraction_stopped = true, row.clusters_fraction = clusters;
      clusters = merge.clusters_after;
    }
    rows.push_back(row);
  }
  return rows;
}

void add_split_elbow(std::vector<ElbowRow>& rows, const std::vector<TransitionEvent>& history,
                     const std::vector<CurvePoint>& curve) {
  for (ElbowRow& row : rows) {
    row.clusters_split = 1;
    row.beta_split = std::nan("");
    const TransitionEvent* last = nullptr;  // the last split gaining >= threshold
    for (const TransitionEvent& event : history)
      if (event.kind == EventKind::split && event.gain >= row.threshold) last = &event;
    if (!last) continue;
    row.beta_split = last->beta;
    row.clusters_split = last->cluster_count;
    for (const CurvePoint& point : curve)  // K once every event of that β happened
      if (point.beta == last->beta) row.clusters_split = point.cluster_count;
  }
}

}  // namespace headscope::analysis::ib
