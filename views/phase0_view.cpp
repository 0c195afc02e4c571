// The phase 0 view (see phase0_view.h): r from RunData::analysis() (analyze_store's phase 0), the grid and
// the ranking through the plotting layer.
#include "views/phase0_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "views/analysis_common.h"

namespace headscope::views {

namespace {

const char* const kTitle = "phase 0: query norm vs entropy";

double pearson_of(const analysis::StoreAnalysis& result, store::HeadRef head) {
  return result.phase0.pearson[static_cast<std::size_t>(head.layer) * result.head_count + head.head];
}

}  // namespace

void phase0_view_controls(Phase0ViewState& state) {
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::SliderInt("bars##phase0", &state.top, 5, 40);
}

std::string phase0_view_title(ViewContext& context, Phase0ViewState&) {
  return std::string(kTitle) + " over tokens, per head (" + std::to_string(context.run->info().sample_count) + " samples)";
}

void draw_phase0_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, Phase0ViewState& state) {
  const analysis::StoreAnalysis* result = analysis_or_placeholder(canvas, frame, context, kTitle);
  if (!result) return;
  const store::Phase0Group& phase0 = result->phase0;
  const int layers = result->layer_count, heads = result->head_count;
  if (!phase0.present || phase0.pearson.size() != static_cast<std::size_t>(layers) * heads) {
    plot::draw_placeholder(canvas, frame, kTitle, "the run has no query_norm and entropy to correlate");
    return;
  }
  if (state.grid_of != result || state.grid_values.size() != phase0.pearson.size()) {
    state.grid_values.assign(phase0.pearson.begin(), phase0.pearson.end());
    state.grid_of = result;
  }
  // The heading: the title, and the first head of the ranking with its numbers (Spectra's target).
  std::vector<store::HeadRef> ranked(phase0.ranking.begin(),
                                     phase0.ranking.begin() + std::min<std::ptrdiff_t>(state.top, static_cast<std::ptrdiff_t>(phase0.ranking.size())));
  std::vector<HeadingLine> lines;
  if (!ranked.empty()) {
    const std::size_t first = static_cast<std::size_t>(ranked[0].layer) * heads + ranked[0].head;
    lines.push_back({"most negative: " + store::head_name(ranked[0]) + ", r " + format_value(phase0.pearson[first], 3) +
                         ", Spearman " + format_value(phase0.spearman[first], 3) + ", n " + std::to_string(phase0.pairs[first]),
                     plot::style().text});
  }
  if (plot::style().fill_frame_background) canvas.fill_rect(frame, plot::style().background);
  const float heading = draw_heading(canvas, frame, phase0_view_title(context, state), lines);
  const plot::Rect body{{frame.min.x, frame.min.y + heading}, frame.max};
  // Left: the grid, coloured symmetrically about 0 so the sign reads at a glance.
  const ValueRange range = finite_range(state.grid_values.data(), state.grid_values.size());
  const double reach = std::max({std::abs(range.min), std::abs(range.max), 1e-3});
  const plot::Rect grid_frame{body.min, {body.min.x + body.width() * 0.5f, body.max.y}};
  const plot::Rect ranking_frame{{grid_frame.max.x, body.min.y}, body.max};
  const plot::Colormap& colormap = plot::Colormap::get(plot::ColormapId::cool_warm);
  if (plot::begin_plot(canvas, "phase0-grid", grid_frame, &state.grid_plot)) {
    plot::setup_title("Pearson r per head");
    setup_layer_head_axes(layers, heads);
    plot::setup_colorbar(colormap, -reach, reach, "Pearson r");
    plot::setup_highlight_cell(context.selection->head.head, context.selection->head.layer);
    plot::plot_heatmap("pearson r", state.grid_values.data(), layers, heads, colormap, -reach, reach,
                       analysis_content_version(result, 0));
    const plot::PlotResult clicked = plot::end_plot();
    if (clicked.clicked) {
      const int head = static_cast<int>(std::lround(clicked.x)), layer = static_cast<int>(std::lround(clicked.y));
      if (head >= 0 && head < heads && layer >= 0 && layer < layers) context.selection->head = {layer, head};
    }
  }
  // Right: the ranking, most negative r first (Spectra's target is the first bar).
  std::vector<float> values, selected;
  for (const auto& head : ranked) {
    values.push_back(static_cast<float>(pearson_of(*result, head)));
    selected.push_back(head == context.selection->head ? values.back() : 0.0f);
  }
  if (!plot::begin_plot(canvas, "phase0-ranking", ranking_frame, &state.ranking_plot)) return;
  plot::setup_title("heads by r, most negative first");
  plot::setup_axis(plot::Axis::x, "head (rank order)");
  plot::setup_axis(plot::Axis::y, "Pearson r");
  plot::setup_axis_categories(plot::Axis::x, static_cast<std::int64_t>(ranked.size()),
                              [ranked](std::int64_t i) { return store::head_name(ranked[static_cast<std::size_t>(i)]); },
                              [ranked](std::int64_t i) { return "#" + std::to_string(i + 1) + " " + store::head_name(ranked[static_cast<std::size_t>(i)]); });
  plot::set_next_item_style({plot::cycle_color(4), 1, 0, 0.7f});
  plot::plot_bars("pearson r", values.data(), static_cast<int>(values.size()));
  if (std::any_of(selected.begin(), selected.end(), [](float v) { return v != 0; })) {
    plot::set_next_item_style({plot::style().highlight, 1, 0, 0.9f});
    plot::plot_bars("selected " + store::head_name(context.selection->head), selected.data(), static_cast<int>(selected.size()));
  }
  const plot::PlotResult clicked = plot::end_plot();
  if (clicked.clicked) {
    const long index = std::lround(clicked.x);
    if (index >= 0 && index < static_cast<long>(ranked.size())) context.selection->head = ranked[static_cast<std::size_t>(index)];
  }
}

}  // namespace headscope::views
