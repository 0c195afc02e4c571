// IB view: an Information-Bottleneck run in four panels — I(T;Y) and I(X;T) against β (log axis) with
// the splits marked; the information plane I(T;Y) vs I(X;T) under the I(X;Y) ceiling; the AIB merge
// cost ("gain") against the cluster count with the elbow thresholds 0.30, 0.20, 0.15, 0.10 nats and the
// clusters each leaves; and the cluster table (size, mass, top labels), which on screen is also an ImGui
// table whose rows select a cluster (shown by the ib-cluster view, ib_cluster_view.h).
#pragma once
#include <string>
#include <vector>

#include "core/analysis/ib/cluster_heads.h"
#include "views/data/result_files.h"
#include "views/plot/plot.h"

namespace headscope::views {

struct IbViewState {
  plot::PlotState beta_curve, plane, aib;
  int selected_cluster = -1;  // index into IbData::clusters, -1 none
  // The ib-cluster view (ib_cluster_view.h): the metric of its heads grid ("" = entropy), the grid's zoom,
  // and the member steps of the cluster shown, kept between frames.
  std::string cluster_metric;
  plot::PlotState cluster_heads;
  std::vector<analysis::ib::ClusterMember> members;
  const IbData* members_of = nullptr;
  int members_cluster = -1;
};

std::string ib_view_title(const IbData& ib);
// "add 62%, sub 30%, mul 8%": the labels with the largest q(y|t), at most `count`.
std::string ib_top_labels(const IbData& ib, const IbCluster& cluster, int count = 3);
void draw_ib_view(plot::Canvas& canvas, plot::Rect frame, const IbData& ib, IbViewState& state);
// Screen only: the cluster table as an ImGui table (click a row to select the cluster); true on the frame
// a row was clicked (the window then shows the cluster's steps and heads: the ib-cluster view).
bool ib_cluster_table(const IbData& ib, IbViewState& state);

}  // namespace headscope::views
