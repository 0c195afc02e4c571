// The rankings view (see rankings_view.h): rows from RunData::analysis(), the table through ImGui's
// sortable tables, the figure through the plotting layer.
#include "views/rankings_view.h"

#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "views/analysis_common.h"

namespace headscope::views {

const char* ranking_score_name(RankingScore score) {
  switch (score) {
    case RankingScore::composite: return "composite";
    case RankingScore::flow: return "flow";
    case RankingScore::hub: return "hub";
    case RankingScore::skip: return "skip";
    case RankingScore::sequential: return "sequential";
    case RankingScore::telegraph: return "telegraph";
    case RankingScore::heartbeats: return "heartbeats";
    case RankingScore::boundary_f1: return "boundary F1";
  }
  return "?";
}

std::string ranking_score_option(RankingScore score) {
  std::string name = ranking_score_name(score);
  std::replace(name.begin(), name.end(), ' ', '-');
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::vector<RankingRow> ranking_rows(const analysis::StoreAnalysis& result) {
  const int layers = result.layer_count, heads = result.head_count;
  std::vector<RankingRow> rows(static_cast<std::size_t>(layers * heads));
  for (int index = 0; index < layers * heads; ++index) {
    RankingRow& row = rows[static_cast<std::size_t>(index)];
    row.head = {index / heads, index % heads};
    std::fill(std::begin(row.scores), std::end(row.scores), NAN);
    if (result.has_flow && static_cast<int>(result.flow_scores.heads.size()) == layers * heads) {
      const auto& s = result.flow_scores.heads[static_cast<std::size_t>(index)];
      row.scores[int(RankingScore::composite)] = s.composite;
      row.scores[int(RankingScore::flow)] = s.flow;
      row.scores[int(RankingScore::hub)] = s.hub_score;
      row.scores[int(RankingScore::skip)] = s.skip;
      row.scores[int(RankingScore::sequential)] = s.sequential;
    }
    if (result.has_boundaries && static_cast<int>(result.boundary_f1.size()) == layers * heads)
      row.scores[int(RankingScore::boundary_f1)] = result.boundary_f1[static_cast<std::size_t>(index)];
  }
  for (const auto& h : result.telegraph_ranking) {
    RankingRow& row = rows[static_cast<std::size_t>(h.layer * heads + h.head)];
    row.scores[int(RankingScore::telegraph)] = h.telegraph_score * h.pulse_coverage;  // the ranking's key
    row.scores[int(RankingScore::heartbeats)] = h.mean_count;
  }
  return rows;
}

std::vector<RankingRow> rank_rows(std::vector<RankingRow> rows, RankingScore score, bool ascending) {
  const int column = static_cast<int>(score);
  std::stable_sort(rows.begin(), rows.end(), [&](const RankingRow& a, const RankingRow& b) {
    const double x = a.scores[column], y = b.scores[column];
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
    if (std::isnan(x) || x == y) return false;  // stable: (layer, head) order kept
    return ascending ? x < y : x > y;
  });
  return rows;
}

void rankings_controls(RankingsState& state) {
  ImGui::SetNextItemWidth(120);
  if (ImGui::BeginCombo("##rankings-score", ranking_score_name(state.score))) {
    for (int i = 0; i < kRankingScoreCount; ++i)
      if (ImGui::Selectable(ranking_score_name(RankingScore(i)), int(state.score) == i)) state.score = RankingScore(i);
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("the score the exported bar chart ranks by");
}

void rankings_table(ViewContext& context, RankingsState& state) {
  SharedAnalysis result = context.run->analysis();
  if (!result) {
    ImGui::TextDisabled(context.run->info().sample_count ? "analysing the run …" : "no samples yet");
    return;
  }
  for (const auto& note : result->notes) ImGui::TextDisabled("%s", note.c_str());
  const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("##rankings", kRankingScoreCount + 1, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("head", ImGuiTableColumnFlags_NoSort | ImGuiTableColumnFlags_WidthFixed, 56);
  for (int i = 0; i < kRankingScoreCount; ++i)
    ImGui::TableSetupColumn(ranking_score_name(RankingScore(i)),
                            ImGuiTableColumnFlags_PreferSortDescending |
                                (RankingScore(i) == state.score ? ImGuiTableColumnFlags_DefaultSort : 0));
  ImGui::TableHeadersRow();
  int column = static_cast<int>(state.score);
  bool ascending = false;
  if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsCount > 0) {
    column = specs->Specs[0].ColumnIndex - 1;
    ascending = specs->Specs[0].SortDirection == ImGuiSortDirection_Ascending;
    if (specs->SpecsDirty) {
      if (column >= 0) state.score = RankingScore(column);
      specs->SpecsDirty = false;
    }
  }
  column = std::clamp(column, 0, kRankingScoreCount - 1);
  if (state.table_of != result.get() || state.table_column != column || state.table_ascending != ascending) {
    state.table_rows = rank_rows(ranking_rows(*result), RankingScore(column), ascending);
    state.table_of = result.get();
    state.table_column = column;
    state.table_ascending = ascending;
  }
  const std::vector<RankingRow>& rows = state.table_rows;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows.size()));
  while (clipper.Step())
    for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
      const RankingRow& row = rows[static_cast<std::size_t>(r)];
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      const bool selected = row.head == context.selection->head;
      if (ImGui::Selectable(store::head_name(row.head).c_str(), selected, ImGuiSelectableFlags_SpanAllColumns))
        context.selection->head = row.head;
      for (int i = 0; i < kRankingScoreCount; ++i) {
        ImGui::TableSetColumnIndex(i + 1);
        const double value = row.scores[i];
        if (std::isnan(value)) ImGui::TextDisabled("-");
        else ImGui::TextUnformatted(format_value(value, RankingScore(i) == RankingScore::hub ? 4 : 3).c_str());
      }
    }
  ImGui::EndTable();
}

std::string rankings_title(ViewContext& context, RankingsState& state) {
  return "top " + std::to_string(state.top) + " heads by " + ranking_score_name(state.score) + " (" +
         std::to_string(context.run->info().sample_count) + " samples)";
}

void draw_rankings(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, RankingsState& state) {
  const analysis::StoreAnalysis* result = analysis_or_placeholder(canvas, frame, context, "rankings");
  if (!result) return;
  const std::vector<RankingRow> rows = rank_rows(ranking_rows(*result), state.score);
  const int column = static_cast<int>(state.score);
  std::vector<float> values, selected;
  std::vector<store::HeadRef> heads;
  for (const auto& row : rows) {
    if (static_cast<int>(values.size()) >= state.top || std::isnan(row.scores[column])) break;
    values.push_back(static_cast<float>(row.scores[column]));
    selected.push_back(row.head == context.selection->head ? values.back() : 0.0f);
    heads.push_back(row.head);
  }
  if (values.empty()) {
    plot::draw_placeholder(canvas, frame, rankings_title(context, state),
                           std::string("the run has no ") + ranking_score_name(state.score) + " scores" +
                               (result->notes.empty() ? "" : ": " + result->notes.front()));
    return;
  }
  if (!plot::begin_plot(canvas, "rankings", frame, &state.plot)) return;
  plot::setup_title(rankings_title(context, state));
  plot::setup_axis(plot::Axis::x, "head (rank order)");
  plot::setup_axis(plot::Axis::y, ranking_score_name(state.score));
  plot::setup_axis_categories(plot::Axis::x, static_cast<std::int64_t>(heads.size()),
                              [heads](std::int64_t i) { return store::head_name(heads[static_cast<std::size_t>(i)]); },
                              [heads](std::int64_t i) {
                                return "#" + std::to_string(i + 1) + " " + store::head_name(heads[static_cast<std::size_t>(i)]);
                              });
  plot::setup_min_left_margin(56);
  plot::set_next_item_style({plot::cycle_color(4), 1, 0, 0.7f});
  plot::plot_bars(ranking_score_name(state.score), values.data(), static_cast<int>(values.size()));
  if (std::any_of(selected.begin(), selected.end(), [](float v) { return v != 0; })) {
    plot::set_next_item_style({plot::style().highlight, 1, 0, 0.9f});
    plot::plot_bars("selected " + store::head_name(context.selection->head), selected.data(), static_cast<int>(selected.size()));
  }
  const plot::PlotResult clicked = plot::end_plot();
  if (clicked.clicked) {
    const long index = std::lround(clicked.x);
    if (index >= 0 && index < static_cast<long>(heads.size())) context.selection->head = heads[static_cast<std::size_t>(index)];
  }
}

}  // namespace headscope::views
