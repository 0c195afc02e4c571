// The ib-cluster view: one cluster of an IB run — what you get by clicking a row of the ib view's cluster
// table. Left, its member steps by membership q(t|x): the step's text, sample id and level (from the
// capture store the steps came from), label and q(t|x). Right, its heads' behaviour: a layers × heads grid
// of a per-token metric averaged over the tokens of the cluster's steps minus the same average over every
// step's tokens (diverging colours, so heads that behave differently in this cluster stand out), and the
// heads that differ most. Without a source store (a plain embeddings file) the view says so and lists
// what the ib file itself knows: step indices, labels and memberships.
#pragma once
#include <string>

#include "views/data/result_files.h"
#include "views/ib_view.h"
#include "views/plot/plot.h"

namespace headscope::views {

// Index into ib.clusters of the cluster shown: the selected one, else the largest.
int ib_shown_cluster(const IbData& ib, const IbViewState& state);
// Selects the cluster with this id (-1: none, so the largest is shown) and the metric of the heads grid;
// false when no cluster has the id.
bool select_ib_cluster(const IbData& ib, int cluster_id, const std::string& metric, IbViewState& state);
// The metric shown: state.cluster_metric when the store holds it, else entropy, else the store's first.
std::string ib_cluster_metric(const std::vector<std::string>& metrics, const std::string& wanted);
// "5+12=17 ⏎ 17": a step's text on one line (newlines as ⏎, tabs and controls escaped, ends trimmed).
std::string ib_step_display_text(const std::string& text);

std::string ib_cluster_view_title(const ResultFile& file, const IbViewState& state);
void draw_ib_cluster_view(plot::Canvas& canvas, plot::Rect frame, const ResultFile& file, IbViewState& state);

// Screen only: the cluster and metric choosers, then (below the figure) every member step as a scrolling
// ImGui table.
void ib_cluster_view_controls(const ResultFile& file, IbViewState& state);
void ib_cluster_steps_table(const ResultFile& file, IbViewState& state);

}  // namespace headscope::views
