// The head drill-down view (see head_drilldown.h).
#include "views/head_drilldown.h"

#include <imgui.h>

#include <algorithm>
#include <vector>

namespace headscope::views {

std::string head_drilldown_title(ViewContext& context, HeadDrilldownState&) {
  const RunInfo& info = context.run->info();
  const Selection& selection = *context.selection;
  std::string title = store::head_name(selection.head) + ", sample " + std::to_string(selection.sample);
  if (selection.sample < info.sample_count) {
    const auto& sample = info.samples[static_cast<std::size_t>(selection.sample)];
    if (!sample.id.empty()) title += " '" + sample.id + "'";
    title += ", " + std::to_string(sample.token_count) + " tokens";
  }
  return title + measured_attention_suffix(info);
}

bool head_drilldown_controls(ViewContext& context, HeadDrilldownState& state, const std::string& sweep_unavailable,
                             SweepPlan* plan) {
  ImGui::TextUnformatted(("head " + store::head_name(context.selection->head)).c_str());
  ImGui::SameLine();
  return sweep_launch_controls(context, state.sweep, sweep_unavailable, plan);
}

float head_drilldown_height(const RunInfo& info, const HeadDrilldownState& state, float available) {
  const float wanted = 40 + state.min_plot_height * static_cast<float>(info.layout.metrics.size());
  return std::max(available, wanted);
}

void draw_head_drilldown(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeadDrilldownState& state) {
  const RunInfo& info = context.run->info();
  const Selection& selection = *context.selection;
  const auto& metrics = info.layout.metrics;
  if (info.sample_count == 0 || metrics.empty()) {
    plot::draw_placeholder(canvas, frame, "head drill-down", empty_run_message(info));
    return;
  }
  std::vector<SharedFloats> traces;
  for (const auto& spec : metrics) traces.push_back(context.run->head_trace(spec.name, selection.sample, selection.head));
  SharedStrings texts = context.run->token_text(selection.sample);
  if (!texts || std::any_of(traces.begin(), traces.end(), [](const SharedFloats& t) { return !t; })) {
    plot::draw_placeholder(canvas, frame, head_drilldown_title(context, state), "reading …");
    return;
  }
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  const float title_height = style.title_font_size + 2 * style.padding;
  const auto& sample = info.samples[static_cast<std::size_t>(selection.sample)];
  std::string title = head_drilldown_title(context, state);
  if (sample.prompt_length < sample.token_count) title += " (grey: generated tokens)";
  canvas.text({(frame.min.x + frame.max.x) / 2, frame.min.y + style.padding}, title, style.text, style.title_font_size,
              {0.5f, 0});
  const float generated[2] = {static_cast<float>(sample.prompt_length) - 0.5f, static_cast<float>(sample.token_count) - 0.5f};
  const bool has_generated = sample.prompt_length < sample.token_count;
  const std::vector<std::string>* text = texts.get();
  const int count = static_cast<int>(metrics.size());
  // The last plot also carries the token labels and the x axis title.
  const float label_band = style.tick_font_size + style.label_font_size + 12;
  const float each = (frame.height() - title_height - label_band) / count;
  for (int m = 0; m < count; ++m) {
    const bool last = m == count - 1;
    const float top = frame.min.y + title_height + each * m;
    const plot::Rect rect{{frame.min.x, top}, {frame.max.x, top + each + (last ? label_band : 0)}};
    const std::string id = "drilldown-" + metrics[m].name;
    if (!plot::begin_plot(canvas, id, rect, &state.shared_x,
                          plot::plot_no_frame_background))
      continue;
    plot::setup_min_left_margin(56);
    plot::setup_axis(plot::Axis::x, last ? "token" : "", last ? plot::axis_flags_none : plot::axis_no_tick_labels);
    plot::setup_axis(plot::Axis::y, "", plot::axis_lock);
    const auto tokens = static_cast<std::int64_t>(traces[m]->values.size());
    plot::setup_axis_categories(
        plot::Axis::x, tokens,
        [text](std::int64_t i) { return i < std::int64_t(text->size()) ? display_token((*text)[i], 10) : std::to_string(i); },
        [text](std::int64_t i) {
          return std::to_string(i) + " '" + (i < std::int64_t(text->size()) ? display_token((*text)[i], 24) : "") + "'";
        });
    plot::setup_axis_limits(plot::Axis::x, -0.5, static_cast<double>(tokens) - 0.5);
    if (has_generated) {
      plot::set_next_item_style({{0.6f, 0.6f, 0.6f, 1}, 1, 0, 0.18f});
      plot::plot_shaded_x_ranges("##generated", &generated[0], &generated[1], 1);
    }
    plot::set_next_item_style({plot::cycle_color(m), 1.0f, 0, 0.25f});  // 1 px: ImGui's textured AA lines, 2 triangles a segment
    plot::plot_line(metric_label(info, metrics[m].name), traces[m]->values.data(), static_cast<int>(tokens));
    plot::end_plot();
  }
}

}  // namespace headscope::views
