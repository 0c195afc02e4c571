// Rankings view: every head's scores from the run's analysis — flow composite, flow, hub, skip, sequential (of the
// sample-averaged K×K matrices), heartbeat telegraph score and mean heartbeats, step-boundary F1 of its
// windowed-JSD peaks. On screen a sortable ImGui table (click a row to select the head everywhere); as a
// figure (export) a bar chart of the top 20 heads by the chosen score.
#pragma once
#include <string>
#include <vector>

#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

enum class RankingScore { composite, flow, hub, skip, sequential, telegraph, heartbeats, boundary_f1 };
inline constexpr int kRankingScoreCount = 8;
const char* ranking_score_name(RankingScore score);
// The name as `headscope export --score` takes it: lower case, spaces as '-' ("boundary-f1").
std::string ranking_score_option(RankingScore score);

struct RankingRow {
  store::HeadRef head;
  double scores[kRankingScoreCount];  // by RankingScore; NaN where the run lacks the data
};
// One row per head, in (layer, head) order.
std::vector<RankingRow> ranking_rows(const analysis::StoreAnalysis& result);
// Rows sorted by `score`, highest first, NaN last, ties by (layer, head).
std::vector<RankingRow> rank_rows(std::vector<RankingRow> rows, RankingScore score, bool ascending = false);

struct RankingsState {
  RankingScore score = RankingScore::composite;  // the figure's score (and the table's initial sort)
  int top = 20;
  plot::PlotState plot;
  // The table's sorted rows (screen only), rebuilt when the sort or the analysis changes.
  std::vector<RankingRow> table_rows;
  const void* table_of = nullptr;
  int table_column = -1;
  bool table_ascending = false;
};

void rankings_controls(RankingsState& state);
// The on-screen table (screen only): sortable columns, clicking a row selects that head.
void rankings_table(ViewContext& context, RankingsState& state);
std::string rankings_title(ViewContext& context, RankingsState& state);
void draw_rankings(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, RankingsState& state);

}  // namespace headscope::views
