// The IB view (see ib_view.h). β is drawn on an axis_log10 axis (x = log10 β). The panels borrow vectors
// built here, which live until the end of the draw call (after every end_plot()).
#include "views/ib_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "views/plot/ticks.h"
#include "views/view_common.h"

namespace headscope::views {
namespace {

std::vector<std::size_t> clusters_by_size(const IbData& ib) {
  std::vector<std::size_t> order(ib.clusters.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ib.clusters[a].size > ib.clusters[b].size; });
  return order;
}

void draw_cluster_table(plot::Canvas& canvas, plot::Rect rect, const IbData& ib, const IbViewState& state) {
  const plot::PlotStyle& style = plot::style();
  const float size = style.tick_font_size, step = size + 4;
  float y = rect.min.y + style.padding;
  const float x = rect.min.x + 2 * style.padding;
  canvas.text({(rect.min.x + rect.max.x) / 2, y}, "clusters (" + std::to_string(ib.clusters.size()) + "), largest first",
              style.text, style.title_font_size, {0.5f, 0});
  y += style.title_font_size + 6;
  const float columns[4] = {x, x + 44, x + 104, x + 160};
  const char* headers[4] = {"id", "size", "mass", "top labels q(y|t)"};
  for (int c = 0; c < 4; ++c) canvas.text({columns[c], y}, headers[c], style.muted_text, size);
  y += step;
  canvas.line({x, y - 2}, {rect.max.x - style.padding, y - 2}, style.grid, 1);
  const auto order = clusters_by_size(ib);
  const std::size_t room = static_cast<std::size_t>(std::max(0.0f, (rect.max.y - y - step) / step));
  for (std::size_t row = 0; row < order.size() && row < room; ++row) {
    const IbCluster& cluster = ib.clusters[order[row]];
    const plot::Color color = static_cast<int>(order[row]) == state.selected_cluster ? style.highlight : style.text;
    char mass[32];
    std::snprintf(mass, sizeof mass, "%.3f", cluster.mass);
    canvas.text({columns[0], y}, std::to_string(cluster.id), color, size);
    canvas.text({columns[1], y}, std::to_string(cluster.size), color, size);
    canvas.text({columns[2], y}, mass, color, size);
    canvas.text({columns[3], y}, ib_top_labels(ib, cluster), color, size);
    y += step;
  }
  if (order.size() > room)
    canvas.text({x, y}, "… " + std::to_string(order.size() - room) + " more (on screen: the table below)", style.muted_text, size);
}

}  // namespace

std::string ib_view_title(const IbData& ib) {
  std::string title = "IB: " + std::to_string(ib.step_count) + " steps, " + std::to_string(ib.label_names.size()) + " labels, " +
                      std::to_string(ib.clusters.size()) + " clusters, I(X;Y) = " + plot::format_number(ib.info_xy) + " nats";
  return title;
}

std::string ib_top_labels(const IbData& ib, const IbCluster& cluster, int count) {
  std::vector<std::size_t> order(cluster.label_distribution.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cluster.label_distribution[a] > cluster.label_distribution[b]; });
  std::string text;
  for (int i = 0; i < count && i < static_cast<int>(order.size()); ++i) {
    const double p = cluster.label_distribution[order[static_cast<std::size_t>(i)]];
    if (i > 0 && p < 0.01) break;
    const std::size_t label = order[static_cast<std::size_t>(i)];
    char percent[16];
    std::snprintf(percent, sizeof percent, " %.0f%%", 100 * p);
    text += (i ? ", " : "") + (label < ib.label_names.size() ? ib.label_names[label] : std::to_string(label)) + percent;
  }
  return text.empty() ? std::string("-") : text;
}

void draw_ib_view(plot::Canvas& canvas, plot::Rect frame, const IbData& ib, IbViewState& state) {
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  int splits = 0, reabsorbed = 0, nonconverged = 0;
  for (const IbEvent& e : ib.history) {
    splits += e.kind == 0;
    reabsorbed += e.kind == 1;
    nonconverged += e.kind == 3;
  }
  std::string elbow = "elbow (clusters left at gain ≥ g nats):";
  for (std::size_t i = 0; i < ib.elbow_threshold.size(); ++i)
    elbow += " " + plot::format_number(ib.elbow_threshold[i]) + " → " + std::to_string(ib.elbow_clusters_nats[i]) + ";";
  bool has_split = false;
  for (int clusters : ib.elbow_clusters_split) has_split = has_split || clusters > 0;
  if (has_split) {  // the earlier pipeline's reading, from the annealing's split gains
    elbow += "   from split gains (the seed's table):";
    for (std::size_t i = 0; i < ib.elbow_threshold.size() && i < ib.elbow_clusters_split.size(); ++i)
      elbow += " " + plot::format_number(ib.elbow_threshold[i]) + " → " + std::to_string(ib.elbow_clusters_split[i]) + ";";
  }
  std::vector<HeadingLine> lines = {
      {std::to_string(splits) + " splits, " + std::to_string(reabsorbed) + " reabsorbed, " + std::to_string(nonconverged) +
           " non-converged β steps; split floor " + plot::format_number(ib.split_gain_floor) + " nats",
       nonconverged ? fail_color() : style.muted_text},
      {elbow, style.muted_text}};
  const float heading = draw_heading(canvas, frame, ib_view_title(ib), lines);
  if (ib.curve_beta.empty()) {
    plot::draw_placeholder(canvas, {{frame.min.x, frame.min.y + heading}, frame.max}, "IB", "no β curve in the file");
    return;
  }
  const float top = frame.min.y + heading, mid_x = (frame.min.x + frame.max.x) / 2, mid_y = (top + frame.max.y) / 2;
  const plot::Rect quadrant[4] = {{{frame.min.x, top}, {mid_x, mid_y}},
                                  {{mid_x, top}, {frame.max.x, mid_y}},
                                  {{frame.min.x, mid_y}, {mid_x, frame.max.y}},
                                  {{mid_x, mid_y}, {frame.max.x, frame.max.y}}};
  const std::size_t grid = ib.curve_beta.size();
  std::vector<float> log_beta(grid), info_xt(grid), info_ty(grid);
  for (std::size_t i = 0; i < grid; ++i) {
    log_beta[i] = static_cast<float>(std::log10(std::max(ib.curve_beta[i], 1e-300)));
    info_xt[i] = static_cast<float>(ib.curve_info_xt[i]);
    info_ty[i] = static_cast<float>(ib.curve_info_ty[i]);
  }
  std::vector<float> split_beta, split_xt, split_ty;
  for (const IbEvent& e : ib.history)
    if (e.kind == 0) {
      split_beta.push_back(static_cast<float>(std::log10(std::max(e.beta_critical, 1e-300))));
      split_xt.push_back(static_cast<float>(e.info_xt));
      split_ty.push_back(static_cast<float>(e.info_ty));
    }
  // 1. Information against β, splits as vertical lines at their critical β.
  if (plot::begin_plot(canvas, "ib-beta", quadrant[0], &state.beta_curve, plot::plot_no_frame_background)) {
    plot::setup_title("information vs β (splits at critical β)");
    plot::setup_axis(plot::Axis::x, "β (log axis)", plot::axis_log10);
    plot::setup_axis(plot::Axis::y, "nats");
    for (std::size_t i = 0; i < split_beta.size(); ++i) {
      plot::set_next_item_style({{0.6f, 0.6f, 0.6f, 0.8f}, 1.0f, 0, 0.25f});
      plot::plot_reference_line(i == 0 ? "split" : "##split" + std::to_string(i), plot::Axis::x, split_beta[i]);
    }
    plot::set_next_item_style({plot::cycle_color(0), 1.5f, 0, 0.25f});
    plot::plot_line("I(T;Y)", log_beta.data(), info_ty.data(), static_cast<int>(grid));
    plot::set_next_item_style({plot::cycle_color(1), 1.5f, 0, 0.25f});
    plot::plot_line("I(X;T)", log_beta.data(), info_xt.data(), static_cast<int>(grid));
    plot::end_plot();
  }
  // 2. The information plane under the I(X;Y) ceiling.
  if (plot::begin_plot(canvas, "ib-plane", quadrant[1], &state.plane, plot::plot_no_frame_background)) {
    plot::setup_title("information plane");
    plot::setup_axis(plot::Axis::x, "I(X;T) (nats)");
    plot::setup_axis(plot::Axis::y, "I(T;Y) (nats)");
    plot::setup_axis_limits(plot::Axis::y, 0, std::isfinite(ib.info_xy) ? ib.info_xy * 1.08 : 1);
    plot::set_next_item_style({fail_color(), 1.0f, 0, 0.25f});
    plot::plot_reference_line("I(X;Y) ceiling", plot::Axis::y, ib.info_xy);
    plot::set_next_item_style({plot::cycle_color(0), 1.5f, 0, 0.25f});
    plot::plot_line("IB curve", info_xt.data(), info_ty.data(), static_cast<int>(grid));
    plot::set_next_item_style({plot::cycle_color(2), 1.0f, 3.0f, 0.25f});
    plot::plot_scatter("splits", split_xt.data(), split_ty.data(), static_cast<int>(split_xt.size()));
    plot::end_plot();
  }
  // 3. AIB: the cost of each merge against the clusters before it, with the elbow thresholds.
  const std::size_t merges = ib.merge_cost.size();
  std::vector<float> clusters_before(merges), cost(merges);
  for (std::size_t i = 0; i < merges; ++i) {
    clusters_before[i] = static_cast<float>(ib.merge_clusters_after[i] + 1);
    cost[i] = static_cast<float>(ib.merge_cost[i]);
  }
  if (merges == 0) {
    plot::draw_placeholder(canvas, quadrant[2], "AIB", "one cluster: nothing to merge");
  } else if (plot::begin_plot(canvas, "ib-aib", quadrant[2], &state.aib, plot::plot_no_frame_background)) {
    plot::setup_title("AIB: gain (merge cost) vs clusters");
    plot::setup_axis(plot::Axis::x, "clusters K (before the merge)");
    plot::setup_axis(plot::Axis::y, "gain lost by merging (nats)");
    for (std::size_t i = 0; i < ib.elbow_threshold.size(); ++i) {
      plot::set_next_item_style({plot::cycle_color(3 + static_cast<int>(i)), 1.0f, 0, 0.25f});
      plot::plot_reference_line("≥ " + plot::format_number(ib.elbow_threshold[i]) + ": K = " + std::to_string(ib.elbow_clusters_nats[i]),
                                plot::Axis::y, ib.elbow_threshold[i]);
    }
    plot::set_next_item_style({plot::cycle_color(0), 1.5f, 3.0f, 0.25f});
    plot::plot_line("merge cost", clusters_before.data(), cost.data(), static_cast<int>(merges));
    plot::end_plot();
  }
  // 4. The cluster table.
  draw_cluster_table(canvas, quadrant[3], ib, state);
}

bool ib_cluster_table(const IbData& ib, IbViewState& state) {
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("ib-clusters", 5, flags, ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 12))) return false;
  bool clicked = false;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const char* header : {"id", "parent", "size", "mass", "top labels"}) ImGui::TableSetupColumn(header);
  ImGui::TableHeadersRow();
  for (std::size_t index : clusters_by_size(ib)) {
    const IbCluster& cluster = ib.clusters[index];
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    const std::string id = std::to_string(cluster.id);
    if (ImGui::Selectable(id.c_str(), state.selected_cluster == static_cast<int>(index), ImGuiSelectableFlags_SpanAllColumns)) {
      state.selected_cluster = static_cast<int>(index);
      clicked = true;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("its steps and their heads' behaviour: the ib-cluster tab");
    ImGui::TableNextColumn();
    ImGui::Text("%d", cluster.parent);
    ImGui::TableNextColumn();
    ImGui::Text("%lld", static_cast<long long>(cluster.size));
    ImGui::TableNextColumn();
    ImGui::Text("%.4f", cluster.mass);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(ib_top_labels(ib, cluster, 4).c_str());
  }
  ImGui::EndTable();
  return clicked;
}

}  // namespace headscope::views
