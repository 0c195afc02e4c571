// The attention matrix view (see attention_matrix.h).
#include "views/attention_matrix.h"

#include <imgui.h>

#include <algorithm>
#include <vector>

namespace headscope::views {

void attention_matrix_controls(AttentionMatrixState& state) {
  colormap_combo("##attention-colormap", state.colormap);
  ImGui::SameLine();
  ImGui::Checkbox("clip at p99.5", &state.scale_to_percentile);
}

std::string attention_matrix_title(ViewContext& context, AttentionMatrixState&) {
  return "attention of " + store::head_name(context.selection->head) + ", sample " +
         std::to_string(context.selection->sample);
}

void draw_attention_matrix(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, AttentionMatrixState& state) {
  const RunInfo& info = context.run->info();
  const Selection& selection = *context.selection;
  const std::string title = attention_matrix_title(context, state);
  if (info.sample_count == 0) {
    plot::draw_placeholder(canvas, frame, "attention matrix", info.opened ? "no samples yet" : "opening …");
    return;
  }
  SharedPinned pinned = context.run->pinned_attention(selection.sample, selection.head);
  SharedStrings texts = context.run->token_text(selection.sample);
  if (!pinned || !texts) {
    plot::draw_placeholder(canvas, frame, title, "reading …");
    return;
  }
  const float* values = nullptr;
  int tokens = 0;
  std::uint64_t serial = 0;
  std::string source = "stored: pinned";
  std::shared_ptr<const AttentionResult> recomputed;
  if (pinned->pinned) {
    values = pinned->values.data();
    tokens = pinned->token_count;
    serial = pinned->serial;
  } else {
    AttentionSource* attention = context.attention;
    if (!attention || !attention->available()) {
      const std::string why = attention ? attention->reason() : std::string("no attention source");
      plot::draw_placeholder(canvas, frame, title,
                             store::head_name(selection.head) + " is not pinned in this run; " + why + ".");
      return;
    }
    const AttentionRequest wanted{kAttentionMatrixTag, info.path, selection.sample, selection.head};
    recomputed = attention->latest(kAttentionMatrixTag);
    if (!recomputed || !(recomputed->request == wanted)) {
      attention->request(wanted);
      plot::draw_placeholder(canvas, frame, title, "recomputing " + store::head_name(selection.head) + " with the model …");
      return;
    }
    if (!recomputed->error.empty()) {
      plot::draw_placeholder(canvas, frame, title, "recompute failed: " + recomputed->error);
      return;
    }
    values = recomputed->values.data();
    tokens = recomputed->token_count;
    serial = recomputed->serial;
    source = "recomputed";
  }
  if (tokens <= 0) {
    plot::draw_placeholder(canvas, frame, title, "empty sample");
    return;
  }
  const std::size_t count = std::size_t(tokens) * tokens;
  if (state.percentile_serial != serial) {
    std::vector<float> causal;
    causal.reserve(count / 2 + tokens);
    for (int q = 0; q < tokens; ++q)
      for (int k = 0; k <= q; ++k) causal.push_back(values[std::size_t(q) * tokens + k]);
    const std::size_t at = std::min(causal.size() - 1, static_cast<std::size_t>(0.995 * causal.size()));
    std::nth_element(causal.begin(), causal.begin() + static_cast<std::ptrdiff_t>(at), causal.end());
    state.percentile_value = std::max<double>(causal[at], 1e-6);
    state.percentile_serial = serial;
  }
  const double vmax = state.scale_to_percentile ? std::min(state.percentile_value, 1.0) : 1.0;
  const plot::Colormap& colormap = plot::Colormap::get(state.colormap);
  const std::vector<std::string>* text = texts.get();
  auto label = [text](std::int64_t i) { return i < std::int64_t(text->size()) ? display_token((*text)[i], 10) : std::to_string(i); };
  auto hover = [text](std::int64_t i) {
    return std::to_string(i) + " '" + (i < std::int64_t(text->size()) ? display_token((*text)[i], 24) : "") + "'";
  };
  if (plot::begin_plot(canvas, "attention-matrix", frame, &state.plot)) {
    plot::setup_title(title + " (" + source + ")");
    plot::setup_axis(plot::Axis::x, "key");
    plot::setup_axis(plot::Axis::y, "query", plot::axis_invert);
    plot::setup_axis_categories(plot::Axis::x, tokens, label, hover);
    plot::setup_axis_categories(plot::Axis::y, tokens, label, hover);
    plot::setup_colorbar(colormap, 0, vmax, state.scale_to_percentile ? "attention (clipped at p99.5)" : "attention");
    plot::plot_heatmap("attention", values, tokens, tokens, colormap, 0, vmax, serial);
    plot::end_plot();
  }
}

}  // namespace headscope::views
