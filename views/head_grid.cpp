// The head grid view (see head_grid.h).
#include "views/head_grid.h"

#include <imgui.h>

#include <cmath>

#include "core/analysis/aggregate.h"

namespace headscope::views {

const char* head_grid_aggregate_name(HeadGridAggregate aggregate) {
  switch (aggregate) {
    case HeadGridAggregate::mean: return "mean over samples";
    case HeadGridAggregate::std: return "std over samples";
    case HeadGridAggregate::selected_sample: return "selected sample";
  }
  return "";
}

void head_grid_controls(HeadGridState& state, const RunInfo& info) {
  state.metric = choose_metric(info, state.metric);
  metric_combo("metric##grid", info, state.metric);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  if (ImGui::BeginCombo("##aggregate", head_grid_aggregate_name(state.aggregate))) {
    for (auto a : {HeadGridAggregate::mean, HeadGridAggregate::std, HeadGridAggregate::selected_sample})
      if (ImGui::Selectable(head_grid_aggregate_name(a), a == state.aggregate)) state.aggregate = a;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  colormap_combo("##grid-colormap", state.colormap);
}

std::string head_grid_title(ViewContext& context, HeadGridState& state) {
  const RunInfo& info = context.run->info();
  const std::string metric = choose_metric(info, state.metric);
  if (state.aggregate == HeadGridAggregate::selected_sample)
    return metric + ", sample " + std::to_string(context.selection->sample) + measured_attention_suffix(info);
  return metric + ", " + head_grid_aggregate_name(state.aggregate) + " (" + std::to_string(info.sample_count) + ")" +
         measured_attention_suffix(info);
}

void draw_head_grid(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeadGridState& state) {
  const RunInfo& info = context.run->info();
  const std::string title = head_grid_title(context, state);
  const int layers = info.layout.layer_count, heads = info.layout.head_count;
  const std::string metric = choose_metric(info, state.metric);
  if (info.sample_count == 0 || metric.empty() || layers == 0) {
    plot::draw_placeholder(canvas, frame, "head grid", empty_run_message(info));
    return;
  }
  SharedFloats summary = context.run->summary(metric);
  if (!summary) {
    plot::draw_placeholder(canvas, frame, "head grid", "reading " + metric + " …");
    return;
  }
  const auto samples = static_cast<int>(summary->values.size() / (std::size_t(layers) * heads));
  const std::int64_t sample = std::min<std::int64_t>(context.selection->sample, samples - 1);
  const std::uint64_t key = summary->serial * 31 + static_cast<std::uint64_t>(state.aggregate) * 7 +
                            (state.aggregate == HeadGridAggregate::selected_sample ? static_cast<std::uint64_t>(sample) << 20 : 0);
  if (key != state.values_key || state.values.size() != std::size_t(layers) * heads) {
    state.values.assign(std::size_t(layers) * heads, NAN);
    if (state.aggregate == HeadGridAggregate::selected_sample && sample >= 0) {
      std::copy_n(summary->values.begin() + sample * layers * heads, layers * heads, state.values.begin());
    } else if (samples > 0) {
      std::vector<float> mean(state.values.size()), std(state.values.size());
      analysis::head_grid_stats(summary->values.data(), samples, layers, heads, mean.data(), std.data(), nullptr);
      state.values = state.aggregate == HeadGridAggregate::mean ? mean : std;
    }
    state.values_key = key;
  }
  const ValueRange range = finite_range(state.values.data(), state.values.size());
  const plot::Colormap& colormap = plot::Colormap::get(state.colormap);
  if (plot::begin_plot(canvas, "head-grid", frame, &state.plot)) {
    plot::setup_title(title);
    setup_layer_head_axes(layers, heads);
    plot::setup_colorbar(colormap, range.min, range.max, metric_label(info, metric));
    plot::setup_highlight_cell(context.selection->head.head, context.selection->head.layer);
    plot::plot_heatmap(metric, state.values.data(), layers, heads, colormap, range.min, range.max, state.values_key);
    const plot::PlotResult result = plot::end_plot();
    if (result.clicked) {
      const int head = static_cast<int>(std::lround(result.x)), layer = static_cast<int>(std::lround(result.y));
      if (head >= 0 && head < heads && layer >= 0 && layer < layers) context.selection->head = {layer, head};
    }
  }
}

}  // namespace headscope::views
