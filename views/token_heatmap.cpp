// The token heatmap view (see token_heatmap.h).
#include "views/token_heatmap.h"

#include <imgui.h>

#include <cmath>

namespace headscope::views {

void token_heatmap_controls(TokenHeatmapState& state, const RunInfo& info) {
  state.metric = choose_metric(info, state.metric);
  metric_combo("metric##tokens", info, state.metric);
  ImGui::SameLine();
  colormap_combo("##tokens-colormap", state.colormap);
}

std::string token_heatmap_title(ViewContext& context, TokenHeatmapState& state) {
  const std::string metric = choose_metric(context.run->info(), state.metric);
  return metric + " of layer " + std::to_string(context.selection->head.layer) + ", sample " +
         std::to_string(context.selection->sample) + measured_attention_suffix(context.run->info());
}

void draw_token_heatmap(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, TokenHeatmapState& state) {
  const RunInfo& info = context.run->info();
  const std::string metric = choose_metric(info, state.metric);
  const Selection& selection = *context.selection;
  if (info.sample_count == 0 || metric.empty()) {
    plot::draw_placeholder(canvas, frame, "token heatmap", empty_run_message(info));
    return;
  }
  SharedFloats slice = context.run->layer_slice(metric, selection.sample, selection.head.layer);
  SharedStrings texts = context.run->token_text(selection.sample);
  if (!slice || !texts) {
    plot::draw_placeholder(canvas, frame, "token heatmap", "reading layer " + std::to_string(selection.head.layer) + " …");
    return;
  }
  const int heads = info.layout.head_count;
  const int tokens = static_cast<int>(slice->values.size() / std::max(heads, 1));
  if (state.transposed_serial != slice->serial) {
    state.transposed.resize(slice->values.size());
    for (int t = 0; t < tokens; ++t)
      for (int h = 0; h < heads; ++h) state.transposed[std::size_t(h) * tokens + t] = slice->values[std::size_t(t) * heads + h];
    state.transposed_serial = slice->serial;
    state.range = finite_range(state.transposed.data(), state.transposed.size());
  }
  const ValueRange& range = state.range;
  const plot::Colormap& colormap = plot::Colormap::get(state.colormap);
  const std::vector<std::string>* text = texts.get();
  if (plot::begin_plot(canvas, "token-heatmap", frame, &state.plot)) {
    plot::setup_title(token_heatmap_title(context, state));
    plot::setup_axis(plot::Axis::x, "token");
    plot::setup_axis(plot::Axis::y, "head", plot::axis_invert);
    plot::setup_axis_categories(
        plot::Axis::x, tokens,
        [text](std::int64_t i) { return i < std::int64_t(text->size()) ? display_token((*text)[i], 10) : std::to_string(i); },
        [text](std::int64_t i) {
          return std::to_string(i) + " '" + (i < std::int64_t(text->size()) ? display_token((*text)[i], 24) : "") + "'";
        });
    plot::setup_axis_categories(plot::Axis::y, heads, [](std::int64_t i) { return std::to_string(i); },
                                [layer = selection.head.layer](std::int64_t i) {
                                  return "L" + std::to_string(layer) + "H" + std::to_string(i);
                                });
    plot::setup_colorbar(colormap, range.min, range.max, metric_label(info, metric));
    plot::plot_heatmap(metric, state.transposed.data(), heads, tokens, colormap, range.min, range.max, slice->serial);
    plot::set_next_item_style({{1, 0.1f, 0.1f, 0.9f}, 1.5f, 0, 0});
    plot::plot_reference_line("##selected head", plot::Axis::y, selection.head.head - 0.5);
    plot::set_next_item_style({{1, 0.1f, 0.1f, 0.9f}, 1.5f, 0, 0});
    plot::plot_reference_line("##selected head end", plot::Axis::y, selection.head.head + 0.5);
    const plot::PlotResult result = plot::end_plot();
    if (result.clicked) {
      const int head = static_cast<int>(std::lround(result.y));
      if (head >= 0 && head < heads) context.selection->head.head = head;
    }
  }
}

}  // namespace headscope::views
