// The attention matrix view (see attention_matrix.h).
#include "views/attention_matrix.h"

#include <imgui.h>

#include "views/data/attention_tiles.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace headscope::views {

void attention_matrix_controls(AttentionMatrixState& state) {
  colormap_combo("##attention-colormap", state.colormap);
  ImGui::SameLine();
  ImGui::Checkbox("clip at p99.5", &state.scale_to_percentile);
}

std::string attention_matrix_title(ViewContext& context, AttentionMatrixState&) {
  return "attention of " + store::head_name(context.selection->head) + ", sample " +
         std::to_string(context.selection->sample) + measured_attention_suffix(context.run->info());
}

std::shared_ptr<const AttentionResult> AttentionTileCache::find(const AttentionRequest& request) {
  for (auto it = tiles_.begin(); it != tiles_.end(); ++it)
    if ((*it)->request == request) {
      tiles_.splice(tiles_.begin(), tiles_, it);
      return tiles_.front();
    }
  return nullptr;
}

void AttentionTileCache::insert(std::shared_ptr<const AttentionResult> tile) {
  if (find(tile->request)) return;
  tiles_.push_front(std::move(tile));
  while (tiles_.size() > capacity_) tiles_.pop_back();
}

namespace {

// The p99.5 of the positive values (attention sinks would otherwise leave every other entry black).
double percentile_995(std::vector<float> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](float v) { return !(v > 0); }), values.end());
  if (values.empty()) return 1;
  const std::size_t at = std::min(values.size() - 1, static_cast<std::size_t>(0.995 * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
  return std::max<double>(values[at], 1e-6);
}

struct AxisLabels {
  std::function<std::string(std::int64_t)> label, hover;
};

AxisLabels token_labels(const std::vector<std::string>* text) {
  return {[text](std::int64_t i) { return i < std::int64_t(text->size()) ? display_token((*text)[i], 10) : std::to_string(i); },
          [text](std::int64_t i) {
            return std::to_string(i) + " '" + (i < std::int64_t(text->size()) ? display_token((*text)[i], 24) : "") + "'";
          }};
}

// A head the run did not pin, recomputed tile by tile: the visible tiles at the level of the plot's pixels.
void draw_recomputed_tiles(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, AttentionMatrixState& state,
                           const std::string& title, int tokens, const std::vector<std::string>* text) {
  const RunInfo& info = context.run->info();
  const Selection& selection = *context.selection;
  AttentionSource* attention = context.attention;
  const plot::Range full{-0.5, tokens - 0.5};
  const plot::Range keys = state.plot.x_zoomed ? state.plot.x : full, queries = state.plot.y_zoomed ? state.plot.y : full;
  const int level = attention_zoom_level(std::abs(keys.size()), std::abs(queries.size()), frame.width(), frame.height());
  const auto specs = visible_attention_tiles(tokens, level, keys.min, keys.max, queries.min, queries.max);
  // A sample of one tile or less asks for the full matrix (level -1): the same cells.
  const bool whole = tokens <= kTileCells;
  auto request_of = [&](const AttentionTileSpec& spec) {
    AttentionRequest request{kAttentionMatrixTag, info.path, selection.sample, selection.head};
    request.level = whole ? -1 : spec.level;
    request.tile_row = spec.tile_row;
    request.tile_col = spec.tile_col;
    return request;
  };
  if (auto done = attention->latest(kAttentionMatrixTag); done && done->error.empty()) state.tiles.insert(done);
  std::vector<std::pair<AttentionTileSpec, std::shared_ptr<const AttentionResult>>> shown;
  const AttentionTileSpec* missing = nullptr;
  for (const auto& spec : specs) {
    if (auto tile = state.tiles.find(request_of(spec))) shown.emplace_back(spec, tile);
    else if (!missing) missing = &spec;
  }
  if (missing) {
    const AttentionRequest wanted = request_of(*missing);
    auto done = attention->latest(kAttentionMatrixTag);
    if (done && done->request == wanted && !done->error.empty()) {
      plot::draw_placeholder(canvas, frame, title, "recompute failed: " + done->error);
      return;
    }
    // One request at a time: ask again only for a new tile, or when the source went idle without it.
    const bool fresh = !(wanted == state.last_requested);
    if (fresh || !attention->busy(kAttentionMatrixTag)) {
      if (fresh) state.requested_cells += std::int64_t(missing->row_count) * missing->key_bins();
      state.last_requested = wanted;
      attention->request(wanted);
    }
  }
  if (shown.empty()) {
    const std::string status = attention->status(kAttentionMatrixTag);
    plot::draw_placeholder(canvas, frame, title,
                           status.empty() ? "recomputing " + store::head_name(selection.head) + " with the model …" : status);
    return;
  }
  std::uint64_t serials = 0;
  std::vector<float> all;
  for (const auto& entry : shown) serials = serials * 1099511628211ull ^ entry.second->serial;
  if (state.percentile_serial != serials) {
    for (const auto& entry : shown) all.insert(all.end(), entry.second->values.begin(), entry.second->values.end());
    state.percentile_value = percentile_995(std::move(all));
    state.percentile_serial = serials;
  }
  const double vmax = state.scale_to_percentile ? std::min(state.percentile_value, 1.0) : 1.0;
  const plot::Colormap& colormap = plot::Colormap::get(state.colormap);
  const AxisLabels labels = token_labels(text);
  const int stride = 1 << level;
  std::string source = "recomputed";
  if (stride > 1) source += ", 1 query in " + std::to_string(stride) + ", max over " + std::to_string(stride) + " keys";
  if (missing) source += ", " + std::to_string(specs.size() - shown.size()) + " tiles to go";
  if (plot::begin_plot(canvas, "attention-matrix", frame, &state.plot)) {
    plot::setup_title(title + " (" + source + ")");
    plot::setup_axis(plot::Axis::x, "key");
    plot::setup_axis(plot::Axis::y, "query", plot::axis_invert);
    plot::setup_axis_limits(plot::Axis::x, full.min, full.max);
    plot::setup_axis_limits(plot::Axis::y, full.min, full.max);
    plot::setup_axis_categories(plot::Axis::x, tokens, labels.label, labels.hover);
    plot::setup_axis_categories(plot::Axis::y, tokens, labels.label, labels.hover);
    plot::setup_colorbar(colormap, 0, vmax, state.scale_to_percentile ? "attention (clipped at p99.5)" : "attention");
    for (const auto& [spec, tile] : shown) {
      // A full-matrix answer (level -1) may leave rows and cols 0: it is token_count².
      const int rows = tile->rows > 0 ? tile->rows : tile->token_count, cols = tile->cols > 0 ? tile->cols : tile->token_count;
      if (tile->values.size() != std::size_t(rows) * cols) continue;
      const plot::Range x{spec.key_begin - 0.5, spec.key_begin + double(cols) * spec.stride - 0.5};
      const plot::Range y{spec.row_begin - 0.5, spec.row_begin + double(rows) * spec.stride - 0.5};
      plot::plot_heatmap_in("##tile " + std::to_string(spec.tile_row) + "," + std::to_string(spec.tile_col), tile->values.data(),
                            rows, cols, colormap, 0, vmax, tile->serial, x, y);
    }
    plot::end_plot();
  }
}

}  // namespace

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
  if (!pinned->pinned) {
    AttentionSource* attention = context.attention;
    if (!attention || !attention->available()) {
      const std::string why = attention ? attention->reason() : std::string("no attention source");
      plot::draw_placeholder(canvas, frame, title,
                             store::head_name(selection.head) + " is not pinned in this run; " + why + ".");
      return;
    }
    const int sample_tokens = info.samples[static_cast<std::size_t>(selection.sample)].token_count;
    if (sample_tokens <= 0) {
      plot::draw_placeholder(canvas, frame, title, "empty sample");
      return;
    }
    draw_recomputed_tiles(canvas, frame, context, state, title, sample_tokens, texts.get());
    return;
  }
  const float* values = pinned->values.data();
  const int tokens = pinned->token_count;
  const std::uint64_t serial = pinned->serial;
  const std::string source = "stored: pinned";
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
  const AxisLabels labels = token_labels(texts.get());
  if (plot::begin_plot(canvas, "attention-matrix", frame, &state.plot)) {
    plot::setup_title(title + " (" + source + ")");
    plot::setup_axis(plot::Axis::x, "key");
    plot::setup_axis(plot::Axis::y, "query", plot::axis_invert);
    plot::setup_axis_categories(plot::Axis::x, tokens, labels.label, labels.hover);
    plot::setup_axis_categories(plot::Axis::y, tokens, labels.label, labels.hover);
    plot::setup_colorbar(colormap, 0, vmax, state.scale_to_percentile ? "attention (clipped at p99.5)" : "attention");
    plot::plot_heatmap("attention", values, tokens, tokens, colormap, 0, vmax, serial);
    plot::end_plot();
  }
}

}  // namespace headscope::views
