// The flow view (see flow_view.h): matrices and scores from RunData::analysis() (FlowAverage, the run's
// FlowRunScores and composite ranking), drawn as one texture per matrix.
#include "views/flow_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "views/analysis_common.h"

namespace headscope::views {

void flow_view_controls(FlowViewState& state) {
  ImGui::SetNextItemWidth(70);
  ImGui::SliderInt("top heads##flow", &state.top_heads, 1, 12);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(110);
  if (ImGui::BeginCombo("by##flow-rank", analysis::flow_score_name(state.rank_by))) {
    for (int i = 0; i < analysis::kFlowScoreKindCount; ++i) {
      const auto kind = analysis::FlowScoreKind(i);
      if (ImGui::Selectable(analysis::flow_score_name(kind), state.rank_by == kind)) state.rank_by = kind;
    }
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("the score the small multiples are ranked by");
  ImGui::SameLine();
  colormap_combo("##flow-colormap", state.colormap);
}

std::string flow_view_title(ViewContext& context, FlowViewState& state) {
  const RunInfo& info = context.run->info();
  const int k = info.layout.flow_size;
  return std::to_string(k) + "x" + std::to_string(k) + " flow, mean over " + std::to_string(info.sample_count) +
         " samples, top heads by " + analysis::flow_score_name(state.rank_by);
}

namespace {
// The seed's phase criteria under the title, one line per phase: "phase 1:  sharp_rows 0.07 fail  ·  ...",
// each criterion in the pass or fail colour, the top/bottom groups after phase 2. Returns the height used.
float draw_criteria(plot::Canvas& canvas, plot::Rect frame, float top, const analysis::StoreAnalysis& result) {
  const plot::PlotStyle& style = plot::style();
  const auto counts = analysis::top_bottom_counts(static_cast<int>(result.flow_scores.heads.size()));
  using Part = std::pair<std::string, plot::Color>;
  std::vector<std::vector<Part>> lines;
  for (int phase = 1; phase <= 2; ++phase) {
    std::vector<Part> parts{{"phase " + std::to_string(phase) + ":", style.text}};
    for (const auto& c : result.phase_criteria)
      if (c.phase == phase)
        parts.push_back({"  " + c.key + " " + format_value(c.value) + (c.passed ? " pass" : " fail"), c.passed ? pass_color() : fail_color()});
    if (phase == 2)
      parts.push_back({"  (top " + std::to_string(counts.top) + " / bottom " + std::to_string(counts.bottom) + " of " +
                           std::to_string(counts.heads) + (counts.fractions ? " heads: 10 % / 50 %)" : " heads)"),
                       style.muted_text});
    lines.emplace_back();
    float width = 0;
    for (const auto& part : parts) {  // wrapped to the frame's width
      const float part_width = canvas.measure_text(part.first, style.tick_font_size).x;
      if (!lines.back().empty() && width + part_width > frame.width() - 2 * style.padding) lines.emplace_back(), width = 0;
      lines.back().push_back(part);
      width += part_width;
    }
  }
  float y = top;
  for (const auto& parts : lines) {
    float width = 0;
    for (const auto& part : parts) width += canvas.measure_text(part.first, style.tick_font_size).x;
    float x = (frame.min.x + frame.max.x - width) / 2;
    for (const auto& [text, color] : parts) {
      canvas.text({x, y}, text, color, style.tick_font_size, {0, 0});
      x += canvas.measure_text(text, style.tick_font_size).x;
    }
    y += style.tick_font_size + 3;
  }
  return y - top;
}
}  // namespace

plot::PlotResult flow_heatmap(plot::Canvas& canvas, const std::string& id, plot::Rect rect, plot::PlotState* plot_state,
                              const std::string& title, const float* matrix, int k, const plot::Colormap& colormap,
                              double lo, double hi, std::uint64_t version, const std::string& colorbar_label,
                              bool axis_titles) {
  plot::PlotResult result;
  if (!plot::begin_plot(canvas, id, rect, plot_state, plot::plot_no_frame_background | plot::plot_no_legend)) return result;
  plot::setup_title(title);
  plot::setup_axis(plot::Axis::x, axis_titles ? "attended position" : "");
  plot::setup_axis(plot::Axis::y, axis_titles ? "attending position" : "", plot::axis_invert);
  auto label = [](std::int64_t i) { return std::to_string(i); };
  plot::setup_axis_categories(plot::Axis::x, k, label, [](std::int64_t i) { return "key position " + std::to_string(i); });
  plot::setup_axis_categories(plot::Axis::y, k, label, [](std::int64_t i) { return "query position " + std::to_string(i); });
  if (!colorbar_label.empty()) plot::setup_colorbar(colormap, lo, hi, colorbar_label);
  plot::plot_heatmap("flow", matrix, k, k, colormap, lo, hi, version);
  return plot::end_plot();
}

void draw_flow_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, FlowViewState& state) {
  const RunInfo& info = context.run->info();
  const std::string title = flow_view_title(context, state);
  if (info.opened && info.layout.flow_size <= 0) {
    plot::draw_placeholder(canvas, frame, "flow", kNoFlowMessage);
    return;
  }
  const analysis::StoreAnalysis* result = analysis_or_placeholder(canvas, frame, context, "flow");
  if (!result) return;
  if (!result->has_flow || result->flow_average.k <= 0) {
    plot::draw_placeholder(canvas, frame, "flow", kNoFlowMessage);
    return;
  }
  const auto& average = result->flow_average;
  const auto& scores = result->flow_scores;
  const int k = average.k, heads = average.head_count;
  const std::size_t block = static_cast<std::size_t>(k) * k;
  const plot::Colormap& colormap = plot::Colormap::get(state.colormap);
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  canvas.text({(frame.min.x + frame.max.x) / 2, frame.min.y + style.padding}, title, style.text, style.title_font_size,
              {0.5f, 0});
  const float title_height = style.title_font_size + 2 * style.padding +
                             draw_criteria(canvas, frame, frame.min.y + style.padding + style.title_font_size + 4, *result);
  // Top: the small multiples, shared colour range [0, max of those shown].
  const std::vector<analysis::RankedHead> ranking =
      state.rank_by == analysis::FlowScoreKind::composite ? result->composite_ranking : analysis::rank_heads(scores, state.rank_by);
  const int shown = std::min<int>(state.top_heads, static_cast<int>(ranking.size()));
  state.small_plots.resize(static_cast<std::size_t>(std::max(shown, 1)));
  const int columns = shown <= 3 ? shown : (shown + 1) / 2;
  const int rows = shown <= 3 ? 1 : 2;
  const float grid_height = (frame.height() - title_height) * 0.55f;
  const float cell_width = frame.width() / std::max(columns, 1), cell_height = grid_height / rows;
  double top_max = 0;
  for (int i = 0; i < shown; ++i) {
    const auto& ranked = ranking[static_cast<std::size_t>(i)];
    const float* matrix = average.mean.data() + static_cast<std::size_t>(ranked.layer * heads + ranked.head) * block;
    top_max = std::max<double>(top_max, *std::max_element(matrix, matrix + block));
  }
  // The scores under each matrix: one line, or two when narrow; in a short cell only flow, sequential and the hub.
  const bool short_cells = cell_height < 7 * style.tick_font_size;
  const float score_band = (short_cells ? 1 : 2) * (style.tick_font_size + 2) + 2;
  for (int i = 0; i < shown; ++i) {
    const auto& ranked = ranking[static_cast<std::size_t>(i)];
    const store::HeadRef head{ranked.layer, ranked.head};
    const auto& s = scores.at(ranked.layer, ranked.head);
    const float x = frame.min.x + cell_width * static_cast<float>(i % columns);
    const float y = frame.min.y + title_height + cell_height * static_cast<float>(i / columns);
    const plot::Rect rect{{x, y}, {x + cell_width, y + cell_height - score_band}};
    const float* matrix = average.mean.data() + static_cast<std::size_t>(ranked.layer * heads + ranked.head) * block;
    const plot::PlotResult clicked =
        flow_heatmap(canvas, "flow-top-" + std::to_string(i), rect, &state.small_plots[static_cast<std::size_t>(i)],
                     "#" + std::to_string(ranked.rank) + " " + store::head_name(head) + " [" +
                         analysis::functional_type_name(analysis::FunctionalType(s.functional_type)) + "]  " +
                         analysis::flow_score_name(state.rank_by) + " " + format_value(ranked.value) +
                         (head == context.selection->head ? "  (selected)" : ""),
                     matrix, k, colormap, 0, top_max, analysis_content_version(result, static_cast<std::uint64_t>(ranked.layer * heads + ranked.head)),
                     "", false);
    if (clicked.clicked) context.selection->head = head;
    std::vector<std::string> band = {
        (state.rank_by == analysis::FlowScoreKind::composite ? "" : "comp " + format_value(s.composite) + "  ") + "flow " +
            format_value(s.flow) + "  hub " + format_value(s.hub_score, 3) + " @" + std::to_string(s.hub_position),
        "skip " + format_value(s.skip) + "  seq " + format_value(s.sequential)};
    if (short_cells) band = {"flow " + format_value(s.flow) + "  seq " + format_value(s.sequential) + "  hub @" + std::to_string(s.hub_position)};
    else if (canvas.measure_text(band[0] + "  " + band[1], style.tick_font_size).x < rect.width()) band = {band[0] + "  " + band[1]};
    for (std::size_t line = 0; line < band.size(); ++line)
      canvas.text({(rect.min.x + rect.max.x) / 2, rect.max.y + 1 + static_cast<float>(line) * (style.tick_font_size + 2)}, band[line],
                  style.muted_text, style.tick_font_size, {0.5f, 0});
  }
  // Bottom: the selected head's mean and std, and the hub positions of all heads.
  const store::HeadRef selected = context.selection->head;
  const float bottom_top = frame.min.y + title_height + grid_height + style.padding;
  const float third = frame.width() / 3;
  const plot::Rect mean_rect{{frame.min.x, bottom_top}, {frame.min.x + third, frame.max.y}};
  const plot::Rect std_rect{{frame.min.x + third, bottom_top}, {frame.min.x + 2 * third, frame.max.y}};
  const plot::Rect hub_rect{{frame.min.x + 2 * third, bottom_top}, frame.max};
  if (selected.layer < average.layer_count && selected.head < heads) {
    const std::size_t index = static_cast<std::size_t>(selected.layer * heads + selected.head);
    const float* mean = average.mean.data() + index * block;
    const float* std_values = average.std.data() + index * block;
    const auto& s = scores.at(selected.layer, selected.head);
    const ValueRange std_range = finite_range(std_values, block);
    flow_heatmap(canvas, "flow-mean", mean_rect, &state.mean_plot,
                 store::head_name(selected) + " mean (composite " + format_value(s.composite) + ")", mean, k, colormap, 0,
                 std::max<double>(1e-6, *std::max_element(mean, mean + block)), analysis_content_version(result, 1u << 30 | index),
                 "attention", true);
    flow_heatmap(canvas, "flow-std", std_rect, &state.std_plot, store::head_name(selected) + " std over samples", std_values,
                 k, colormap, 0, std::max(1e-6, std_range.max), analysis_content_version(result, 1u << 31 | index), "std", true);
  }
  std::vector<float> hub_counts(static_cast<std::size_t>(k), 0.0f);
  for (const auto& s : scores.heads)
    if (s.hub_position >= 0 && s.hub_position < k) hub_counts[static_cast<std::size_t>(s.hub_position)] += 1;
  if (plot::begin_plot(canvas, "flow-hubs", hub_rect, &state.hub_plot, plot::plot_no_frame_background | plot::plot_no_legend)) {
    plot::setup_title("hub position of every head");
    plot::setup_axis(plot::Axis::x, "position (argmax column sum)");
    plot::setup_axis(plot::Axis::y, "heads");
    plot::setup_axis_categories(plot::Axis::x, k, [](std::int64_t i) { return std::to_string(i); });
    plot::set_next_item_style({plot::cycle_color(2), 1, 0, 0.7f});
    plot::plot_bars("heads", hub_counts.data(), k);
    plot::end_plot();
  }
}

}  // namespace headscope::views
