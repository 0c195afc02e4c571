// The ib-cluster view (see ib_cluster_view.h). Section index:
//   1. helpers: the cluster and metric shown, step text on one line, the member list (cached in the state)
//   2. the figure: heading, member steps, heads grid, top heads
//   3. screen only: choosers and the scrolling table of every member step
#include "views/ib_cluster_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "views/data/ib_source_data.h"
#include "views/plot/ticks.h"
#include "views/view_common.h"

namespace headscope::views {

// ---------------------------------------------------------------------------------------------------
// 1. helpers
int ib_shown_cluster(const IbData& ib, const IbViewState& state) {
  const int count = static_cast<int>(ib.clusters.size());
  if (state.selected_cluster >= 0 && state.selected_cluster < count) return state.selected_cluster;
  int largest = -1;
  for (int c = 0; c < count; ++c)
    if (largest < 0 || ib.clusters[c].size > ib.clusters[largest].size) largest = c;
  return largest;
}

bool select_ib_cluster(const IbData& ib, int cluster_id, const std::string& metric, IbViewState& state) {
  state.cluster_metric = metric;
  state.selected_cluster = -1;
  if (cluster_id < 0) return true;
  for (std::size_t c = 0; c < ib.clusters.size(); ++c)
    if (ib.clusters[c].id == cluster_id) state.selected_cluster = static_cast<int>(c);
  return state.selected_cluster >= 0;
}

std::string ib_cluster_metric(const std::vector<std::string>& metrics, const std::string& wanted) {
  for (const std::string& name : {wanted, std::string("entropy")})
    if (std::find(metrics.begin(), metrics.end(), name) != metrics.end()) return name;
  return metrics.empty() ? std::string() : metrics.front();
}

std::string ib_step_display_text(const std::string& text) {
  std::size_t begin = 0, end = text.size();
  auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (begin < end && blank(text[begin])) ++begin;
  while (end > begin && blank(text[end - 1])) --end;
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') out += " \xe2\x8f\x8e ";  // ⏎
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += '?';
    else out += static_cast<char>(c);
  }
  return out.empty() ? std::string("\xe2\x88\x85") : out;  // ∅
}

namespace {

const std::vector<analysis::ib::ClusterMember>& members_of(const IbData& ib, int cluster, IbViewState& state) {
  if (state.members_of != &ib || state.members_cluster != cluster) {
    state.members = analysis::ib::cluster_members(ib.step_cluster, ib.step_membership, cluster);
    state.members_of = &ib;
    state.members_cluster = cluster;
  }
  return state.members;
}

std::string format_fixed(double value, const char* format) {
  if (!std::isfinite(value)) return "-";
  char text[48];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string label_name(const IbData& ib, std::int64_t step) {
  if (step < 0 || static_cast<std::size_t>(step) >= ib.step_label.size()) return "-";
  const int label = ib.step_label[step];
  return label >= 0 && static_cast<std::size_t>(label) < ib.label_names.size() ? ib.label_names[label] : std::to_string(label);
}

std::string units_of(const IbSourceData::State& source, const std::string& metric) {
  for (std::size_t i = 0; i < source.metrics.size() && i < source.metric_units.size(); ++i)
    if (source.metrics[i] == metric) return source.metric_units[i] == "1" ? std::string() : source.metric_units[i];
  return "";
}

// ---------------------------------------------------------------------------------------------------
// 2. the figure
void draw_member_steps(plot::Canvas& canvas, plot::Rect rect, const IbData& ib, const IbSourceData::State& source,
                       const std::vector<analysis::ib::ClusterMember>& members) {
  const plot::PlotStyle& style = plot::style();
  const float size = style.tick_font_size, step = size + 4, gap = 12;
  const float x0 = rect.min.x + style.padding;
  float y = rect.min.y + style.padding;
  canvas.text({x0, y}, "member steps (" + std::to_string(members.size()) + "), most typical first (by q(t|x))", style.text,
              style.label_font_size);
  y += style.label_font_size + 6;
  const std::size_t room = static_cast<std::size_t>(std::max(0.0f, (rect.max.y - y - 2 * step) / step));
  const std::size_t shown = std::min(room, members.size());
  const bool with_text = source.status == IbSourceData::Status::ready && source.steps;
  // Columns: q(t|x), then sample, level, label, text with a store; step, label without.
  std::vector<std::string> headers = with_text ? std::vector<std::string>{"q(t|x)", "sample", "level", "label", "step text"}
                                               : std::vector<std::string>{"q(t|x)", "step", "label"};
  std::vector<std::vector<std::string>> cells(headers.size());
  for (std::size_t row = 0; row < shown; ++row) {
    const std::int64_t s = members[row].step;
    cells[0].push_back(format_fixed(members[row].membership, "%.3f"));
    if (with_text) {
      const analysis::ib::SourceSteps& steps = *source.steps;
      cells[1].push_back(steps.sample_id[s]);
      cells[2].push_back(steps.level[s] >= 0 ? std::to_string(steps.level[s]) : "-");
      cells[3].push_back(label_name(ib, s));
      cells[4].push_back(ib_step_display_text(steps.text[s]));
    } else {
      cells[1].push_back(std::to_string(s));
      cells[2].push_back(label_name(ib, s));
    }
  }
  std::vector<float> left(headers.size(), x0);
  for (std::size_t c = 0; c + 1 < headers.size(); ++c) {
    float width = canvas.measure_text(headers[c], size).x;
    for (const std::string& cell : cells[c]) width = std::max(width, canvas.measure_text(cell, size).x);
    left[c + 1] = left[c] + std::min(width, 0.3f * rect.width()) + gap;
  }
  for (std::size_t c = 0; c < headers.size(); ++c) canvas.text({left[c], y}, headers[c], style.muted_text, size);
  y += step;
  canvas.line({x0, y - 2}, {rect.max.x - style.padding, y - 2}, style.grid, 1);
  canvas.push_clip({{rect.min.x, rect.min.y}, {rect.max.x - style.padding, rect.max.y}});
  for (std::size_t row = 0; row < shown; ++row, y += step)
    for (std::size_t c = 0; c < headers.size(); ++c) {
      const bool last = c + 1 == headers.size();
      if (!last) canvas.push_clip({{left[c], y - 2}, {left[c + 1] - gap / 2, y + step}});
      canvas.text({left[c], y}, cells[c][row], style.text, size);
      if (!last) canvas.pop_clip();
    }
  canvas.pop_clip();
  if (members.size() > shown)
    canvas.text({x0, y}, "\xe2\x80\xa6 " + std::to_string(members.size() - shown) + " more (on screen: the table below)",
                style.muted_text, size);
  if (members.empty()) canvas.text({x0, y}, "no step is assigned to this cluster", style.muted_text, size);
}

void draw_top_heads(plot::Canvas& canvas, plot::Rect rect, const std::vector<analysis::ib::HeadDifference>& heads,
                    const std::string& metric) {
  const plot::PlotStyle& style = plot::style();
  const float size = style.tick_font_size, step = size + 4;
  const float x0 = rect.min.x + style.padding;
  float y = rect.min.y + style.padding;
  canvas.text({x0, y}, "heads that differ most: " + metric + " in this cluster vs all steps", style.text, style.label_font_size);
  y += style.label_font_size + 6;
  const float columns[4] = {x0, x0 + 52, x0 + 124, x0 + 214};
  const char* headers[4] = {"head", "\xce\x94 (diff)", "cluster", "all steps"};
  for (int c = 0; c < 4; ++c) canvas.text({columns[c], y}, headers[c], style.muted_text, size);
  y += step;
  for (std::size_t i = 0; i < heads.size() && y + step < rect.max.y; ++i, y += step) {
    const analysis::ib::HeadDifference& h = heads[i];
    canvas.text({columns[0], y}, store::head_name(h.head), style.text, size);
    const plot::Color warm{0.70f, 0.02f, 0.15f, 1}, cool{0.23f, 0.30f, 0.75f, 1};  // the ends of cool-warm
    canvas.text({columns[1], y}, format_fixed(h.difference, "%+.4f"), h.difference > 0 ? warm : cool, size);
    canvas.text({columns[2], y}, format_fixed(h.cluster_mean, "%.4f"), style.text, size);
    canvas.text({columns[3], y}, format_fixed(h.overall_mean, "%.4f"), style.text, size);
  }
}

// `text` word-wrapped to the width of rect, from its top, under a title.
void draw_wrapped(plot::Canvas& canvas, plot::Rect rect, const std::string& title, const std::string& text, plot::Color color) {
  const plot::PlotStyle& style = plot::style();
  const float size = style.tick_font_size, width = rect.width() - 2 * style.padding, x = rect.min.x + style.padding;
  float y = rect.min.y + style.padding;
  canvas.text({x, y}, title, style.text, style.label_font_size);
  y += style.label_font_size + 6;
  std::string line;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t space = std::min(text.find(' ', at), text.size());
    const std::string word = text.substr(at, space - at);
    const std::string longer = line.empty() ? word : line + " " + word;
    if (!line.empty() && canvas.measure_text(longer, size).x > width) {
      canvas.text({x, y}, line, color, size);
      y += size + 4;
      line = word;
    } else {
      line = longer;
    }
    at = space + 1;
  }
  if (!line.empty()) canvas.text({x, y}, line, color, size);
}

void draw_heads(plot::Canvas& canvas, plot::Rect rect, const IbSourceData::State& source, IbSourceData& data, int cluster,
                IbViewState& state) {
  if (source.status != IbSourceData::Status::ready) {
    const bool loading = source.status == IbSourceData::Status::loading;
    draw_wrapped(canvas, rect, "heads' behaviour", loading ? std::string("opening the source store \xe2\x80\xa6") : source.message,
                 source.status == IbSourceData::Status::failed ? fail_color() : plot::style().muted_text);
    return;
  }
  const std::string metric = ib_cluster_metric(source.metrics, state.cluster_metric);
  std::string error;
  const IbSourceData::SharedProfile profile = data.profile(metric, &error);
  if (!profile) {
    draw_wrapped(canvas, rect, "heads' behaviour",
                 error.empty() ? "averaging " + metric + " over the steps' tokens \xe2\x80\xa6" : error,
                 error.empty() ? plot::style().muted_text : fail_color());
    return;
  }
  const int layers = profile->layer_count, heads = profile->head_count;
  const std::vector<double> difference = profile->difference(cluster);
  std::vector<float> values(difference.begin(), difference.end());
  double largest = 0;
  for (double d : difference)
    if (std::isfinite(d)) largest = std::max(largest, std::abs(d));
  if (largest == 0) largest = 1e-9;
  const plot::Rect grid_rect{rect.min, {rect.max.x, rect.min.y + rect.height() * 0.62f}};
  const plot::Rect list_rect{{rect.min.x, grid_rect.max.y}, rect.max};
  const std::vector<analysis::ib::HeadDifference> top = analysis::ib::top_heads(*profile, cluster, 12);
  const std::string units = units_of(source, metric);
  const std::uint64_t version = std::hash<std::string>{}(metric) ^ (static_cast<std::uint64_t>(cluster + 1) * 0x9E3779B97F4A7C15ULL) ^
                                reinterpret_cast<std::uintptr_t>(profile.get());
  const plot::Colormap& colormap = plot::Colormap::get(plot::ColormapId::cool_warm);
  if (plot::begin_plot(canvas, "ib-cluster-heads", grid_rect, &state.cluster_heads, plot::plot_no_frame_background)) {
    plot::setup_title(metric + ": this cluster \xe2\x88\x92 all steps");
    setup_layer_head_axes(layers, heads);
    plot::setup_colorbar(colormap, -largest, largest, "\xce\x94 " + metric + (units.empty() ? "" : " (" + units + ")"));
    for (std::size_t i = 0; i < top.size() && i < 3; ++i) plot::setup_highlight_cell(top[i].head.head, top[i].head.layer);
    plot::plot_heatmap("difference", values.data(), layers, heads, colormap, -largest, largest, version);
    plot::end_plot();
  }
  draw_top_heads(canvas, list_rect, top, metric);
}

}  // namespace

std::string ib_cluster_view_title(const ResultFile& file, const IbViewState& state) {
  const IbData& ib = *file.ib;
  const int cluster = ib_shown_cluster(ib, state);
  if (cluster < 0) return "IB cluster: the run has no clusters";
  const IbCluster& c = ib.clusters[cluster];
  return "IB cluster " + std::to_string(c.id) + ": " + std::to_string(c.size) + " of " + std::to_string(ib.step_count) +
         " steps, q(t) = " + format_fixed(c.mass, "%.3f") + ", " + ib_top_labels(ib, c) + " (" +
         std::to_string(ib.clusters.size()) + " clusters)";
}

void draw_ib_cluster_view(plot::Canvas& canvas, plot::Rect frame, const ResultFile& file, IbViewState& state) {
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  const IbData& ib = *file.ib;
  const int cluster = ib_shown_cluster(ib, state);
  if (cluster < 0 || ib.step_cluster.empty()) {
    plot::draw_placeholder(canvas, frame, "IB cluster",
                           cluster < 0 ? "the run has no clusters" : "this ib file records no per-step clusters");
    return;
  }
  const IbSourceData::State source =
      file.ib_source ? file.ib_source->state() : IbSourceData::State{IbSourceData::Status::failed, "no source data", {}, {}, {}, 0, 0, {}};
  std::vector<HeadingLine> lines;
  switch (source.status) {
    case IbSourceData::Status::ready: {
      const std::string metric = ib_cluster_metric(source.metrics, state.cluster_metric);
      lines.push_back({"steps from " + std::filesystem::path(source.store_path).filename().string() + "; heads: mean " + metric +
                           " over the tokens of this cluster's steps minus over all steps' tokens",
                       style.muted_text});
      break;
    }
    case IbSourceData::Status::loading: lines.push_back({"opening the source store \xe2\x80\xa6", style.muted_text}); break;
    case IbSourceData::Status::no_source:
      lines.push_back({"no source store: the IB input was a plain embeddings file (no samples, tokens or heads)", style.muted_text});
      break;
    case IbSourceData::Status::failed: lines.push_back({"the source store cannot be read (see the right)", fail_color()}); break;
  }
  const float heading = draw_heading(canvas, frame, ib_cluster_view_title(file, state), lines);
  const float top = frame.min.y + heading, split = frame.min.x + frame.width() * 0.56f;
  const std::vector<analysis::ib::ClusterMember>& members = members_of(ib, cluster, state);
  draw_member_steps(canvas, {{frame.min.x, top}, {split, frame.max.y}}, ib, source, members);
  if (file.ib_source) draw_heads(canvas, {{split, top}, frame.max}, source, *file.ib_source, cluster, state);
}

// ---------------------------------------------------------------------------------------------------
// 3. screen only
void ib_cluster_view_controls(const ResultFile& file, IbViewState& state) {
  const IbData& ib = *file.ib;
  const int shown = ib_shown_cluster(ib, state);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 22);
  const std::string preview = shown < 0 ? std::string("-")
                                        : "cluster " + std::to_string(ib.clusters[shown].id) + " (" +
                                              std::to_string(ib.clusters[shown].size) + " steps)";
  if (ImGui::BeginCombo("##ib-cluster", preview.c_str())) {
    std::vector<int> order(ib.clusters.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return ib.clusters[a].size > ib.clusters[b].size; });
    for (int c : order) {
      const std::string item = "cluster " + std::to_string(ib.clusters[c].id) + " (" + std::to_string(ib.clusters[c].size) +
                               " steps): " + ib_top_labels(ib, ib.clusters[c]);
      if (ImGui::Selectable(item.c_str(), c == shown)) state.selected_cluster = c;
    }
    ImGui::EndCombo();
  }
  if (!file.ib_source) return;
  const IbSourceData::State source = file.ib_source->state();
  if (source.status != IbSourceData::Status::ready) return;
  ImGui::SameLine();
  const std::string metric = ib_cluster_metric(source.metrics, state.cluster_metric);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  if (ImGui::BeginCombo("metric##ib-cluster", metric.c_str())) {
    for (const std::string& name : source.metrics)
      if (ImGui::Selectable(name.c_str(), name == metric)) state.cluster_metric = name;
    ImGui::EndCombo();
  }
}

void ib_cluster_steps_table(const ResultFile& file, IbViewState& state) {
  const IbData& ib = *file.ib;
  const int cluster = ib_shown_cluster(ib, state);
  if (cluster < 0) return;
  const IbSourceData::State source = file.ib_source ? file.ib_source->state() : IbSourceData::State{};
  const bool with_text = source.status == IbSourceData::Status::ready && source.steps;
  const std::vector<analysis::ib::ClusterMember>& members = members_of(ib, cluster, state);
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_Resizable;
  // Another id once the store's text is in: the table then has other columns, sized afresh.
  if (!ImGui::BeginTable(with_text ? "ib-cluster-steps-text" : "ib-cluster-steps", with_text ? 6 : 3, flags,
                         ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 12)))
    return;
  float sample_width = ImGui::CalcTextSize("sample").x;
  for (std::size_t row = 0; with_text && row < members.size() && row < 256; ++row)
    sample_width = std::max(sample_width, ImGui::CalcTextSize(source.steps->sample_id[members[row].step].c_str()).x);
  ImGui::TableSetupScrollFreeze(0, 1);
  // The figure's columns (q(t|x), sample, level, label, step text) after the step index.
  ImGui::TableSetupColumn("step", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("q(t|x)", ImGuiTableColumnFlags_WidthFixed);
  if (with_text) {
    ImGui::TableSetupColumn("sample", ImGuiTableColumnFlags_WidthFixed, sample_width);
    ImGui::TableSetupColumn("level", ImGuiTableColumnFlags_WidthFixed);
  }
  ImGui::TableSetupColumn("label", ImGuiTableColumnFlags_WidthFixed);
  if (with_text) ImGui::TableSetupColumn("step text", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(members.size()));
  while (clipper.Step())
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const std::int64_t s = members[row].step;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%lld", static_cast<long long>(s));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_fixed(members[row].membership, "%.4f").c_str());
      if (with_text) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(source.steps->sample_id[s].c_str());
        ImGui::TableNextColumn();
        ImGui::Text("%d", source.steps->level[s]);
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(label_name(ib, s).c_str());
      if (!with_text) continue;
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(ib_step_display_text(source.steps->text[s]).c_str());
    }
  ImGui::EndTable();
}

}  // namespace headscope::views
