// The heartbeat view (see heartbeat_view.h): traces from RunData::head_trace("iaf"); the generated steps,
// counts, top telegraph heads and the calibration table from RunData::heartbeats(options), the one core
// computation (heartbeat_run.h) `analyze` and `heartbeats` print; pulses from its sample_head_heartbeats.
#include "views/heartbeat_view.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "views/analysis_common.h"

namespace headscope::views {

void heartbeat_view_controls(HeartbeatViewState& state) {
  ImGui::SetNextItemWidth(70);
  ImGui::SliderInt("top heads##heartbeat", &state.top_heads, 0, 6);
  ImGui::SameLine();
  float threshold = static_cast<float>(state.options.threshold);
  ImGui::SetNextItemWidth(70);
  if (ImGui::SliderFloat("threshold##heartbeat", &threshold, 0.05f, 0.95f, "%.2f")) state.options.threshold = threshold;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(60);
  if (ImGui::SliderInt("min run##heartbeat", &state.options.min_run, 1, 20)) state.options.min_run = std::max(1, state.options.min_run);
  ImGui::SameLine();
  int definition = static_cast<int>(state.options.definition);
  ImGui::SetNextItemWidth(100);
  if (ImGui::Combo("definition##heartbeat", &definition, "debounced\0drop\0"))
    state.options.definition = static_cast<analysis::HeartbeatDefinition>(definition);
}

std::string heartbeat_view_title(ViewContext& context, HeartbeatViewState&) {
  const RunInfo& info = context.run->info();
  std::string title = "IAF heartbeats, " + store::head_name(context.selection->head) + ", sample " +
                      std::to_string(context.selection->sample);
  if (context.selection->sample < info.sample_count) {
    const auto& sample = info.samples[static_cast<std::size_t>(context.selection->sample)];
    if (!sample.id.empty()) title += " '" + sample.id + "'";
    title += ", " + std::to_string(sample.token_count - sample.prompt_length) + " generated steps";
  }
  return title;
}

namespace {

// The calibration table: bars of mean heartbeats by level with ±std, and the numbers beside them.
void draw_calibration(plot::Canvas& canvas, plot::Rect frame, const analysis::HeartbeatRun& run, HeartbeatViewState& state) {
  const plot::PlotStyle& style = plot::style();
  const auto& rows = run.levels_table;
  if (rows.empty()) {
    plot::draw_placeholder(canvas, frame, "calibration by level",
                           run.has_generation() ? "the samples record no level" : kTeacherForcedMessage);
    return;
  }
  std::vector<float> means, stds, xs;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    means.push_back(static_cast<float>(rows[i].mean_top_heads));
    stds.push_back(std::isfinite(rows[i].std_top_heads) ? static_cast<float>(rows[i].std_top_heads) : 0.0f);
    xs.push_back(static_cast<float>(i));
  }
  const float table_width = std::min(frame.width() * 0.45f, 260.0f);
  const plot::Rect chart{frame.min, {frame.max.x - table_width, frame.max.y}};
  if (plot::begin_plot(canvas, "heartbeat-calibration", chart, &state.calibration_plot, plot::plot_no_frame_background)) {
    plot::setup_title("calibration by level (top " + std::to_string(run.top_heads) + " heads, " +
                      analysis::heartbeat_definition_name(run.options.definition) + ")");
    plot::setup_axis(plot::Axis::x, "level");
    plot::setup_axis(plot::Axis::y, "heartbeats / sample");
    plot::setup_axis_categories(plot::Axis::x, static_cast<std::int64_t>(rows.size()),
                                [&rows](std::int64_t i) { return std::to_string(rows[static_cast<std::size_t>(i)].level); });
    plot::setup_min_left_margin(56);
    plot::set_next_item_style({plot::cycle_color(0), 1, 0, 0.6f});
    plot::plot_bars("mean", means.data(), static_cast<int>(means.size()));
    plot::set_next_item_style({style.text, 1.2f, 0, 0});
    plot::plot_error_bars("± std", xs.data(), means.data(), stds.data(), static_cast<int>(xs.size()));
    plot::end_plot();
  }
  // The numbers, right-aligned columns.
  const float size = style.tick_font_size, line = size + 4;
  const float columns[4] = {frame.max.x - table_width + 50, frame.max.x - table_width + 130,
                            frame.max.x - table_width + 190, frame.max.x - table_width + 250};
  float y = frame.min.y + style.title_font_size + 3 * style.padding;
  const char* headers[4] = {"level", "mean", "std", "samples"};
  for (int c = 0; c < 4; ++c) canvas.text({columns[c], y}, headers[c], style.muted_text, size, {1, 0});
  y += line + 2;
  canvas.line({columns[0] - 48, y - 3}, {columns[3], y - 3}, style.grid, 1);
  for (const auto& row : rows) {
    if (y + line > frame.max.y) break;
    const std::string cells[4] = {std::to_string(row.level), format_value(row.mean_top_heads), format_value(row.std_top_heads),
                                  std::to_string(row.samples)};
    for (int c = 0; c < 4; ++c) canvas.text({columns[c], y}, cells[c], style.text, size, {1, 0});
    y += line;
  }
}

}  // namespace

void draw_heartbeat_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, HeartbeatViewState& state) {
  const RunInfo& info = context.run->info();
  const Selection& selection = *context.selection;
  const std::string title = heartbeat_view_title(context, state);
  if (info.sample_count == 0 || selection.sample >= info.sample_count) {
    plot::draw_placeholder(canvas, frame, "heartbeats", info.opened ? "no samples yet" : "opening …");
    return;
  }
  const bool has_iaf = std::any_of(info.layout.metrics.begin(), info.layout.metrics.end(),
                                   [](const store::MetricSpec& spec) { return spec.name == "iaf"; });
  const auto& sample = info.samples[static_cast<std::size_t>(selection.sample)];
  const int prompt = sample.prompt_length;
  if (!has_iaf) {
    plot::draw_placeholder(canvas, frame, title, "this run stores no iaf metric");
    return;
  }
  if (sample.token_count <= prompt) {
    plot::draw_placeholder(canvas, frame, title, kTeacherForcedMessage);
    return;
  }
  // The steps, the heads (the selected one, then the run's most telegraph-like) and the calibration: all
  // from the run's one heartbeat computation under the view's options.
  SharedHeartbeats run = context.run->heartbeats(state.options);
  if (!run || selection.sample >= run->sample_count) {
    plot::draw_placeholder(canvas, frame, title, "counting heartbeats …");
    return;
  }
  const int steps = run->steps[static_cast<std::size_t>(selection.sample)];
  if (steps <= 0) {
    plot::draw_placeholder(canvas, frame, title, kTeacherForcedMessage);
    return;
  }
  std::vector<store::HeadRef> heads{selection.head};
  for (const auto& ranked : run->ranking) {
    if (static_cast<int>(heads.size()) > state.top_heads) break;
    const store::HeadRef head{ranked.layer, ranked.head};
    if (!(head == selection.head)) heads.push_back(head);
  }
  std::vector<SharedFloats> traces;
  for (const auto& head : heads) traces.push_back(context.run->head_trace("iaf", selection.sample, head));
  SharedStrings texts = context.run->token_text(selection.sample);
  if (!texts || std::any_of(traces.begin(), traces.end(), [](const SharedFloats& t) { return !t; })) {
    plot::draw_placeholder(canvas, frame, title, "reading …");
    return;
  }
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  const float title_height = style.title_font_size + 2 * style.padding;
  canvas.text({(frame.min.x + frame.max.x) / 2, frame.min.y + style.padding}, title, style.text, style.title_font_size,
              {0.5f, 0});
  const float calibration_height = std::max(150.0f, frame.height() * 0.32f);
  const float label_band = style.tick_font_size + style.label_font_size + 12;
  const float traces_bottom = frame.max.y - calibration_height;
  const int count = static_cast<int>(heads.size());
  const float each = (traces_bottom - frame.min.y - title_height - label_band) / count;
  const std::vector<std::string>* text = texts.get();
  for (int h = 0; h < count; ++h) {
    const bool last = h == count - 1;
    const auto& values = traces[static_cast<std::size_t>(h)]->values;
    if (static_cast<int>(values.size()) < sample.token_count) continue;
    const float* generated = values.data() + prompt;  // [step]
    const analysis::HeartbeatResult pulses = analysis::sample_head_heartbeats(values.data(), prompt, steps, state.options);
    std::vector<float> starts, ends;
    for (const auto& pulse : pulses.pulses) {
      starts.push_back(static_cast<float>(pulse.begin) - 0.5f);
      ends.push_back(static_cast<float>(pulse.end) - 0.5f);
    }
    const float top = frame.min.y + title_height + each * h;
    const plot::Rect rect{{frame.min.x, top}, {frame.max.x, top + each + (last ? label_band : 0)}};
    if (!plot::begin_plot(canvas, "heartbeat-" + store::head_name(heads[h]), rect, &state.shared_x,
                          plot::plot_no_frame_background))
      continue;
    plot::setup_min_left_margin(56);
    plot::setup_axis(plot::Axis::x, last ? "generated step" : "", last ? plot::axis_flags_none : plot::axis_no_tick_labels);
    plot::setup_axis(plot::Axis::y, "IAF", plot::axis_lock);
    plot::setup_axis_limits(plot::Axis::y, -0.02, 1.02);
    plot::setup_axis_limits(plot::Axis::x, -0.5, steps - 0.5);
    plot::setup_axis_categories(
        plot::Axis::x, steps,
        [text, prompt](std::int64_t i) {
          const auto t = static_cast<std::size_t>(prompt + i);
          return t < text->size() ? display_token((*text)[t], 10) : std::to_string(i);
        },
        [text, prompt](std::int64_t i) {
          const auto t = static_cast<std::size_t>(prompt + i);
          return "step " + std::to_string(i) + " (token " + std::to_string(t) + ") '" +
                 (t < text->size() ? display_token((*text)[t], 24) : "") + "'";
        });
    const std::string name = store::head_name(heads[h]);
    plot::set_next_item_style({{0.85f, 0.3f, 0.2f, 1}, 1, 0, 0.22f});
    plot::plot_shaded_x_ranges(h == 0 ? "heartbeats (IAF below threshold)" : "##pulses-" + name,
                               starts.data(), ends.data(), static_cast<int>(starts.size()));
    plot::set_next_item_style({style.muted_text, 1, 0, 0});
    plot::plot_reference_line(h == 0 ? "threshold " + format_value(state.options.threshold) : "##threshold", plot::Axis::y,
                              state.options.threshold);
    plot::set_next_item_style({plot::cycle_color(h == 0 ? 4 : h), 1.0f, 0, 0.25f});
    plot::plot_line(name + (h == 0 ? " (selected)" : " (top telegraph)") + ": " + std::to_string(pulses.count) +
                        " heartbeats",
                    generated, steps);
    plot::end_plot();
  }
  const plot::Rect calibration{{frame.min.x, traces_bottom + style.padding}, frame.max};
  draw_calibration(canvas, calibration, *run, state);
}

}  // namespace headscope::views
