// Agglomerative IB (Slonim & Tishby 1999) on a finished clustering: greedily merge the pair of clusters
// whose merge loses the least I(T;Y), cost (p_a+p_b)·JS_π(q(y|a), q(y|b)), until one is left. The costs
// add up to the starting I(T;Y). The elbow table counts the clusters left when merging stops at the first
// merge whose cost reaches a threshold (in nats, and as a fraction of the starting I(T;Y)).
#pragma once
#include <vector>

#include "core/analysis/ib/anneal.h"

namespace headscope::analysis::ib {

struct AibMerge {
  int kept = -1;            // id of the surviving cluster (the heavier of the two)
  int absorbed = -1;        // id of the cluster merged into it
  double cost = 0;          // nats of I(T;Y) lost by this merge
  int clusters_after = 0;   // K after the merge
  double info_ty_after = 0; // I(T;Y) after the merge
};

// mass: q(t) [t]; label_given_cluster: q(y|t) [t, y]; ids: [t] labels for the merge table.
std::vector<AibMerge> agglomerate(const std::vector<double>& mass, const std::vector<double>& label_given_cluster,
                                  int y_count, const std::vector<int>& ids);

struct ElbowRow {
  double threshold = 0;
  int clusters_nats = 0;      // clusters left when every merge below `threshold` nats is made
  int clusters_fraction = 0;  // the same with costs as a fraction of the starting I(T;Y)
  // The earlier pipeline's own reading (METRICS.md "split-gain elbow"), from the annealing path: the
  // clusters alive at the first β after which no split gains >= threshold nats (1 when none does), and
  // that β (NaN when none).
  int clusters_split = 1;
  double beta_split = 0;
};
// Thresholds default to the earlier pipeline's 0.30, 0.20, 0.15, 0.10. Fills the AIB columns only.
std::vector<ElbowRow> elbow_table(const std::vector<AibMerge>& merges, int cluster_count, double info_ty,
                                  const std::vector<double>& thresholds = {0.30, 0.20, 0.15, 0.10});

// Fills clusters_split and beta_split of each row from the annealing's splits (their immediate gains)
// and the curve (K after every event of a grid β).
void add_split_elbow(std::vector<ElbowRow>& rows, const std::vector<TransitionEvent>& history,
                     const std::vector<CurvePoint>& curve);

}  // namespace headscope::analysis::ib
