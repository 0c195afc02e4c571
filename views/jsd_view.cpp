// The JSD view (see jsd_view.h): traces from RunData::head_trace, peaks from analysis::pick_jsd_peaks,
// precision/recall from analysis::score_boundaries — the same rule `headscope analyze` ranks heads by.
#include "views/jsd_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "views/analysis_common.h"

namespace headscope::views {

JsdBoundaries jsd_boundaries(const std::vector<float>& trace, const std::vector<int>& recorded_starts,
                             const JsdViewState& state) {
  JsdBoundaries result;
  result.peaks = analysis::pick_jsd_peaks(std::vector<double>(trace.begin(), trace.end()), state.peaks);
  result.recorded = recorded_starts;
  const std::vector<int> scored(recorded_starts.size() > 1 ? recorded_starts.begin() + 1 : recorded_starts.end(),
                                recorded_starts.end());
  result.score = analysis::score_boundaries(result.peaks, scored, state.tolerance);
  return result;
}

void jsd_view_controls(JsdViewState& state) {
  float z = static_cast<float>(state.peaks.z);
  ImGui::SetNextItemWidth(70);
  if (ImGui::SliderFloat("z##jsd", &z, 0.0f, 4.0f, "%.1f")) state.peaks.z = z;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(60);
  ImGui::SliderInt("separation##jsd", &state.peaks.min_separation, 1, 20);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(60);
  ImGui::SliderInt("±k##jsd", &state.tolerance, 0, 10);
  ImGui::SameLine();
  ImGui::Checkbox("JSD##jsd", &state.show_jsd);
  ImGui::SameLine();
  ImGui::Checkbox("model JSD##jsd", &state.show_model);
}

namespace {

bool has_metric(const RunInfo& info, const std::string& name) {
  return std::any_of(info.layout.metrics.begin(), info.layout.metrics.end(),
                     [&](const store::MetricSpec& spec) { return spec.name == name; });
}

std::string peak_metric(const RunInfo& info) {
  return has_metric(info, "windowed_jsd") ? "windowed_jsd" : has_metric(info, "jsd") ? "jsd" : "";
}

}  // namespace

std::string jsd_view_title(ViewContext& context, JsdViewState&) {
  const RunInfo& info = context.run->info();
  std::string title = peak_metric(info) + " of " + store::head_name(context.selection->head) + ", sample " +
                      std::to_string(context.selection->sample);
  if (context.selection->sample < info.sample_count) {
    const auto& sample = info.samples[static_cast<std::size_t>(context.selection->sample)];
    if (!sample.id.empty()) title += " '" + sample.id + "'";
  }
  return title;
}

void draw_jsd_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, JsdViewState& state) {
  const RunInfo& info = context.run->info();
  const Selection& selection = *context.selection;
  if (info.sample_count == 0 || selection.sample >= info.sample_count) {
    plot::draw_placeholder(canvas, frame, "JSD boundaries", info.opened ? "no samples yet" : "opening …");
    return;
  }
  const std::string metric = peak_metric(info);
  std::string title = jsd_view_title(context, state);
  if (metric.empty()) {
    plot::draw_placeholder(canvas, frame, "JSD boundaries", "this run stores neither windowed_jsd nor jsd");
    return;
  }
  const bool with_jsd = state.show_jsd && metric != "jsd" && has_metric(info, "jsd");
  SharedFloats trace = context.run->head_trace(metric, selection.sample, selection.head);
  SharedFloats jsd = with_jsd ? context.run->head_trace("jsd", selection.sample, selection.head) : nullptr;
  // A 1 x 1 store (an imported model-level trace) is its own model-level trace: not drawn twice.
  const bool with_model = state.show_model && has_metric(info, "jsd") && info.layout.layer_count * info.layout.head_count > 1;
  SharedFloats model = with_model ? context.run->model_trace("jsd", selection.sample) : nullptr;
  SharedStrings texts = context.run->token_text(selection.sample);
  if (!trace || !texts || (with_jsd && !jsd) || (with_model && !model)) {
    plot::draw_placeholder(canvas, frame, title, "reading …");
    return;
  }
  const auto& sample = info.samples[static_cast<std::size_t>(selection.sample)];
  const JsdBoundaries found = jsd_boundaries(trace->values, recorded_step_starts(sample), state);
  title += ": " + std::to_string(found.peaks.size()) + " peaks";
  if (found.recorded.size() > 1)
    title += "; boundaries P " + format_value(found.score.precision) + ", R " + format_value(found.score.recall) +
             " (±" + std::to_string(state.tolerance) + ")";
  else
    title += "; no recorded step boundaries";
  std::vector<float> peak_x, peak_y;
  for (int peak : found.peaks) {
    peak_x.push_back(static_cast<float>(peak));
    peak_y.push_back(trace->values[static_cast<std::size_t>(peak)]);
  }
  const int tokens = static_cast<int>(trace->values.size());
  const std::vector<std::string>* text = texts.get();
  const float generated[2] = {static_cast<float>(sample.prompt_length) - 0.5f, static_cast<float>(sample.token_count) - 0.5f};
  if (!plot::begin_plot(canvas, "jsd", frame, &state.plot)) return;
  plot::setup_title(title);
  plot::setup_min_left_margin(56);
  plot::setup_axis(plot::Axis::x, "token");
  plot::setup_axis(plot::Axis::y, "nats", plot::axis_lock);
  plot::setup_axis_limits(plot::Axis::x, -0.5, tokens - 0.5);
  plot::setup_axis_categories(
      plot::Axis::x, tokens,
      [text](std::int64_t i) { return i < std::int64_t(text->size()) ? display_token((*text)[i], 10) : std::to_string(i); },
      [text](std::int64_t i) {
        return std::to_string(i) + " '" + (i < std::int64_t(text->size()) ? display_token((*text)[i], 24) : "") + "'";
      });
  if (sample.prompt_length < sample.token_count) {
    plot::set_next_item_style({{0.6f, 0.6f, 0.6f, 1}, 1, 0, 0.14f});
    plot::plot_shaded_x_ranges("generated", &generated[0], &generated[1], 1);
  }
  for (std::size_t i = 0; i < found.recorded.size(); ++i) {
    plot::set_next_item_style({{0.35f, 0.35f, 0.35f, 1}, 1, 0, 0});
    plot::plot_reference_line(i == 0 ? "recorded step start" : "##step" + std::to_string(i), plot::Axis::x,
                              found.recorded[i]);
  }
  if (with_jsd) {
    plot::set_next_item_style({plot::cycle_color(1).with_alpha(0.6f), 1.0f, 0, 0});
    plot::plot_line("jsd", jsd->values.data(), static_cast<int>(jsd->values.size()));
  }
  if (with_model) {
    plot::set_next_item_style({plot::cycle_color(2), 1.2f, 0, 0});
    plot::plot_line("model-level jsd (mean over heads)", model->values.data(), static_cast<int>(model->values.size()));
  }
  plot::set_next_item_style({plot::cycle_color(4), 1.5f, 0, 0});
  plot::plot_line(metric, trace->values.data(), tokens);
  plot::set_next_item_style({plot::style().highlight, 1, 4, 0});
  plot::plot_scatter("peaks (mean + " + format_value(state.peaks.z, 1) + " std)", peak_x.data(), peak_y.data(),
                     static_cast<int>(peak_x.size()));
  plot::end_plot();
}

}  // namespace headscope::views
