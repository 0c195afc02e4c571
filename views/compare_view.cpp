// The model comparison view (see compare_view.h). Sections: 1. the comparison, cached between frames
// 2. controls and title  3. drawing.
#include "views/compare_view.h"
#include "views/compare_traces.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/analysis/flow_report.h"
#include "views/analysis_common.h"
#include "views/flow_view.h"

namespace headscope::views {

// 1. The comparison -------------------------------------------------------------------------------------

struct CompareCache {
  std::string plan_key;  // both runs' paths, sample counts and generations
  analysis::ComparedRun a, b;
  analysis::FlowComparisonPlan plan;
  std::uint64_t serial_a = 0, serial_b = 0;  // the averaged blocks the comparison was computed from
  analysis::FlowComparisonOptions options;
  std::shared_ptr<const analysis::FlowComparison> comparison;
};

namespace {

std::string plan_key(const RunInfo& a, const RunInfo& b) {
  return a.path + "|" + std::to_string(a.sample_count) + "|" + std::to_string(a.generation) + "|" + b.path + "|" +
         std::to_string(b.sample_count) + "|" + std::to_string(b.generation);
}

bool same_options(const analysis::FlowComparisonOptions& x, const analysis::FlowComparisonOptions& y) {
  return x.composite_threshold == y.composite_threshold && x.top_fraction == y.top_fraction && x.normalization == y.normalization;
}

plot::Color side_color(int side) { return plot::cycle_color(side); }

}  // namespace

std::shared_ptr<const analysis::FlowComparison> current_comparison(ViewContext& context, CompareViewState& state,
                                                                   std::string* message) {
  RunData* other = context.compare_run;
  if (!other) return *message = kNoCompareRunMessage, nullptr;
  const RunInfo& info_a = context.run->info();
  const RunInfo& info_b = other->info();
  for (const RunInfo* info : {&info_a, &info_b}) {
    if (!info->error.empty()) return *message = info->error, nullptr;
    if (!info->opened) return *message = "opening " + info->path + " …", nullptr;
  }
  if (!state.cache) state.cache = std::make_shared<CompareCache>();
  CompareCache& cache = *state.cache;
  const std::string key = plan_key(info_a, info_b);
  if (cache.plan_key != key) {
    cache = CompareCache{};
    cache.plan_key = key;
    cache.a = analysis::compared_run(info_a.path, info_a.layout, info_a.provenance, info_a.samples);
    cache.b = analysis::compared_run(info_b.path, info_b.layout, info_b.provenance, info_b.samples);
    analysis::distinguish_labels(cache.a, cache.b);
    cache.plan = analysis::plan_flow_comparison(cache.a, cache.b);
  }
  if (!cache.plan.error.empty()) return *message = cache.plan.error, nullptr;
  const SharedFloats mean_a = context.run->flow_mean(cache.plan.samples_a);
  const SharedFloats mean_b = other->flow_mean(cache.plan.samples_b);
  if (!mean_a || !mean_b) {
    *message = "averaging the flow matrices of " + std::to_string(cache.plan.samples_a.size()) + " common prompts …";
    return nullptr;
  }
  if (!cache.comparison || cache.serial_a != mean_a->serial || cache.serial_b != mean_b->serial ||
      !same_options(cache.options, state.options)) {
    try {
      cache.comparison = std::make_shared<const analysis::FlowComparison>(
          analysis::compare_flow(cache.plan, cache.a, mean_a->values, cache.b, mean_b->values, state.options));
    } catch (const analysis::ComparisonError& e) {
      cache.comparison.reset();
      return *message = e.what(), nullptr;
    }
    cache.serial_a = mean_a->serial;
    cache.serial_b = mean_b->serial;
    cache.options = state.options;
  }
  return cache.comparison;
}

// 2. Controls and title ---------------------------------------------------------------------------------

void compare_view_controls(CompareViewState& state, const std::vector<std::string>& other_paths) {
  const std::string current = state.compare_path.empty() ? "(none open)" : std::filesystem::path(state.compare_path).filename().string();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 11);
  if (ImGui::BeginCombo("compare with", current.c_str())) {
    for (const auto& path : other_paths) {
      if (ImGui::Selectable(std::filesystem::path(path).filename().string().c_str(), path == state.compare_path))
        state.compare_path = path;
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", path.c_str());
    }
    if (other_paths.empty()) ImGui::TextDisabled("open another run in the runs panel");
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4);
  float threshold = static_cast<float>(state.options.composite_threshold);
  if (ImGui::DragFloat("threshold##compare", &threshold, 0.01f, 0.0f, 1.0f, "%.2f"))
    state.options.composite_threshold = threshold;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("composite threshold (METRICS.md phase criterion: 0.6)");
  ImGui::SameLine();
  bool joint = state.options.normalization == analysis::ComparisonNormalization::joint;
  if (ImGui::Checkbox("joint scale", &joint))
    state.options.normalization = joint ? analysis::ComparisonNormalization::joint : analysis::ComparisonNormalization::per_run;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("normalise hub and skip over the heads of both runs (off: per run, as `headscope analyze`)");
  ImGui::SameLine();
  colormap_combo("##compare-colormap", state.colormap);
}

std::string compare_view_title(ViewContext& context, CompareViewState& state) {
  std::string message;
  const auto comparison = current_comparison(context, state, &message);
  if (!comparison) return "model comparison";
  const auto& c = *comparison;
  return "model comparison: " + c.a.label + " vs " + c.b.label + ", " + std::to_string(c.a.k) + "x" + std::to_string(c.a.k) +
         " flow over " + std::to_string(c.plan.samples_a.size()) + " common prompts (composite normalised " +
         analysis::comparison_normalization_name(c.options.normalization) + ")";
}

// 3. Drawing --------------------------------------------------------------------------------------------

namespace {

std::string percent(double fraction) { return std::isfinite(fraction) ? format_value(100 * fraction, 0) + "%" : "nan"; }

// "A  arith-gpt2: 3/16 heads over 0.60 · top 2 heads hold 31% · Gini 0.28 · top 2/bottom 8 1.9 · hubs at 0: 69%
//  · sequential 0.21 · top 2: hub 1, skip 1"
std::string summary_line(const std::string& letter, const analysis::ModelFlowSummary& side,
                         const analysis::FlowComparisonOptions& options) {
  int mode = 0;
  for (int k = 0; k < side.k; ++k)
    if (side.hub_counts[static_cast<std::size_t>(k)] > side.hub_counts[static_cast<std::size_t>(mode)]) mode = k;
  return letter + "  " + side.label + ": " + std::to_string(side.heads_over_threshold) + "/" + std::to_string(side.total_heads()) +
         " heads over " + format_value(options.composite_threshold) + "  ·  " +
         (side.top_count == 1 ? std::string("top head holds ") : "top " + std::to_string(side.top_count) + " heads hold ") +
         percent(side.top_share) + " of the composite  ·  Gini " + format_value(side.gini) +
         "  ·  top " + std::to_string(side.groups.top) + "/bottom " + std::to_string(side.groups.bottom) + " " +
         format_value(side.group_means.top_mean / side.group_means.bottom_mean) + "  ·  hubs at " + std::to_string(mode) + ": " +
         percent(side.total_heads() ? double(side.hub_counts[static_cast<std::size_t>(mode)]) / side.total_heads() : std::nan("")) +
         "  ·  sequential " + format_value(side.mean_sequential) + "  ·  top " + std::to_string(side.groups.top) + ": " +
         analysis::format_type_counts(side.top_type_counts);
}

}  // namespace

void draw_compare_view(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, CompareViewState& state) {
  if (context.compare_run && context.run->info().opened && context.compare_run->info().opened &&
      compares_traces(context.run->info(), context.compare_run->info())) {
    draw_trace_comparison(canvas, frame, context, &state.composite_plot);
    return;
  }
  std::string message;
  const auto comparison = current_comparison(context, state, &message);
  if (!comparison) {
    plot::draw_placeholder(canvas, frame, "model comparison", message);
    return;
  }
  const analysis::FlowComparison& c = *comparison;
  const analysis::ModelFlowSummary* sides[2] = {&c.a, &c.b};
  const plot::PlotStyle& style = plot::style();
  if (style.fill_frame_background) canvas.fill_rect(frame, style.background);
  std::vector<HeadingLine> lines = {{summary_line("A", c.a, c.options), side_color(0)},
                                     {summary_line("B", c.b, c.options), side_color(1)}};
  for (const auto& note : c.plan.notes) lines.push_back({"note: " + note, fail_color()});
  const float heading = draw_heading(canvas, frame, compare_view_title(context, state), lines);
  const float top = frame.min.y + heading;
  const float row_height = (frame.max.y - top) / 2;
  const plot::Colormap& colormap = plot::Colormap::get(state.colormap);
  const int k = c.a.k;
  const std::size_t block = static_cast<std::size_t>(k) * k;

  // Row 1: each model's matrix averaged over heads, then each model's top head; one colour scale per pair.
  // Matrices point into the cached comparison, so their textures are uploaded once.
  const float* matrices[4] = {c.a.mean_matrix.data(), c.b.mean_matrix.data(), nullptr, nullptr};
  store::HeadRef top_heads[2];
  double hi[2] = {1e-6, 1e-6};  // colour range of the mean pair and of the top-head pair
  for (int s = 0; s < 2; ++s) {
    const auto& side = *sides[s];
    hi[0] = std::max(hi[0], finite_range(side.mean_matrix.data(), side.mean_matrix.size()).max);
    if (side.ranking.empty() || side.matrices.size() != static_cast<std::size_t>(side.total_heads()) * block) continue;
    top_heads[s] = {side.ranking.front().layer, side.ranking.front().head};
    matrices[2 + s] = side.matrices.data() + static_cast<std::size_t>(top_heads[s].layer * side.head_count + top_heads[s].head) * block;
    hi[1] = std::max(hi[1], finite_range(matrices[2 + s], block).max);
  }
  // Pairs side by side; the right one of a pair carries the pair's colour bar (its rect is wider by the bar).
  const float pair_width = frame.width() / 2, bar_allowance = std::min(70.0f, pair_width * 0.2f);
  const float matrix_width = (pair_width - bar_allowance) / 2;
  for (int panel = 0; panel < 4; ++panel) {
    const int s = panel % 2;
    const bool is_top = panel >= 2;
    const auto& side = *sides[s];
    if (!matrices[panel] || side.mean_matrix.size() != block) continue;
    const float left = frame.min.x + pair_width * (is_top ? 1 : 0) + (s == 0 ? 0 : matrix_width);
    const plot::Rect rect{{left, top}, {left + matrix_width + (s == 1 ? bar_allowance : 0), top + row_height}};
    // The model's name when it fits, else its letter (the heading lines say which is which).
    const std::string what = is_top ? " top: " + store::head_name(top_heads[s]) + " (" + format_value(side.ranking.front().value) + ")"
                                    : ", all heads";
    std::string title = side.label + what;
    if (canvas.measure_text(title, style.title_font_size).x > matrix_width - 8) title = std::string(s == 0 ? "A" : "B") + what;
    const plot::PlotResult result =
        flow_heatmap(canvas, "compare-matrix-" + std::to_string(panel), rect, &state.matrix_plots[static_cast<std::size_t>(panel)],
                     title, matrices[panel], k, colormap, 0, hi[is_top ? 1 : 0],
                     analysis_content_version(comparison.get(), static_cast<std::uint64_t>(panel)),
                     s == 1 ? (is_top ? "attention (top heads)" : "attention (mean)") : "", s == 0);
    if (result.clicked && is_top && s == 0) context.selection->head = top_heads[0];
  }

  // Row 2: sorted composites, hub positions, per layer.
  const float third = frame.width() / 3;
  const float bottom = top + row_height + style.padding;
  auto cell = [&](int i) { return plot::Rect{{frame.min.x + third * i, bottom}, {frame.min.x + third * (i + 1), frame.max.y}}; };
  const int flags = plot::plot_no_frame_background;

  const bool same_size = c.a.total_heads() == c.b.total_heads();
  std::vector<float> rank_x[2], rank_y[2];
  for (int s = 0; s < 2; ++s) {
    const auto& sorted = sides[s]->sorted_composites;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      rank_x[s].push_back(same_size ? static_cast<float>(i + 1) : static_cast<float>(i + 1) / static_cast<float>(sorted.size()));
      rank_y[s].push_back(static_cast<float>(sorted[i]));
    }
  }
  if (plot::begin_plot(canvas, "compare-composites", cell(0), &state.composite_plot, flags)) {
    plot::setup_title("composite score, heads ranked");
    plot::setup_axis(plot::Axis::x, same_size ? "rank" : "rank / heads");
    const double ranks = same_size ? static_cast<double>(std::max(rank_x[0].size(), rank_x[1].size())) : 1.0;
    plot::setup_axis_limits(plot::Axis::x, 0, ranks * 1.04 + (same_size ? 0.5 : 0));
    plot::setup_axis(plot::Axis::y, "composite");
    plot::setup_axis_limits(plot::Axis::y, 0, 1.05);
    for (int s = 0; s < 2; ++s) {
      plot::set_next_item_style({side_color(s), 1.5f, 2.5f, 0.25f});
      plot::plot_line(sides[s]->label, rank_x[s].data(), rank_y[s].data(), static_cast<int>(rank_x[s].size()));
    }
    plot::set_next_item_style({style.muted_text, 1, 0, 0.25f});
    plot::plot_reference_line("threshold " + format_value(c.options.composite_threshold), plot::Axis::y, c.options.composite_threshold);
    plot::end_plot();
  }

  std::vector<float> hub_share[2];
  for (int s = 0; s < 2; ++s)
    for (int count : sides[s]->hub_counts)
      hub_share[s].push_back(sides[s]->total_heads() ? static_cast<float>(count) / static_cast<float>(sides[s]->total_heads()) : 0.0f);
  if (plot::begin_plot(canvas, "compare-hubs", cell(1), &state.hub_plot, flags | plot::plot_no_legend)) {
    plot::setup_title("hub position (TV distance " + format_value(c.hub_distance) + ")");
    plot::setup_axis(plot::Axis::x, "position (argmax column sum)");
    plot::setup_axis(plot::Axis::y, "share of heads");
    plot::setup_axis_categories(plot::Axis::x, k, [](std::int64_t i) { return std::to_string(i); });
    for (int s = 0; s < 2; ++s) {
      plot::set_next_item_style({side_color(s), 1, 0, 0.7f});
      plot::plot_bars(sides[s]->label, hub_share[s].data(), k, 0.4, sizeof(float), s == 0 ? -0.2 : 0.2);
    }
    plot::end_plot();
  }

  const int layers = std::max(c.a.layer_count, c.b.layer_count);
  std::vector<float> layer_mean[2];
  for (int s = 0; s < 2; ++s)
    for (const auto& row : sides[s]->layers) layer_mean[s].push_back(static_cast<float>(row.mean_composite));
  if (plot::begin_plot(canvas, "compare-layers", cell(2), &state.layer_plot, flags | plot::plot_no_legend)) {
    plot::setup_title("mean composite per layer");
    plot::setup_axis(plot::Axis::x, "layer");
    plot::setup_axis(plot::Axis::y, "mean composite");
    plot::setup_axis_limits(plot::Axis::y, 0, 1.05);
    plot::setup_axis_categories(plot::Axis::x, layers, [](std::int64_t i) { return std::to_string(i); });
    plot::setup_axis_limits(plot::Axis::x, -0.5, layers - 0.5);
    for (int s = 0; s < 2; ++s) {
      plot::set_next_item_style({side_color(s), 1.5f, 3, 0.25f});
      plot::plot_line(sides[s]->label, layer_mean[s].data(), static_cast<int>(layer_mean[s].size()));
    }
    plot::end_plot();
  }
}

}  // namespace headscope::views
