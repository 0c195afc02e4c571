// `headscope export --run FILE --view NAME [--head L:H] [--sample I] --out FILE.{pdf,svg,png}`: draws a
// view headless (Cairo only: no window, no GL) with the run's provenance in the figure's metadata. Sweep
// and ib result files take their own views (sweep, sweep-gains, ib).
// Built with the GUI because the views live there; it needs no display.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "views/view_registry.h"

namespace {

std::string view_list() {
  std::string text = "views:\n";
  auto add = [&](const std::string& name, const std::string& description) {
    text += "  " + name + std::string(18 - std::min<std::size_t>(17, name.size()), ' ') + description + "\n";
  };
  for (const auto& view : headscope::views::figure_views()) add(view.name, view.description);
  for (const auto& view : headscope::views::result_views()) add(view.name, view.description);
  return text;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Export a view of a store as a PDF, SVG or PNG figure (headless)");
  cmd->footer(view_list());
  struct Options {
    std::string run, view, out, head = "0:0", metric, aggregate = "mean", colormap, score = "composite", compare;
    double threshold = 0.6;
    bool joint = false;
    std::int64_t sample = 0;
    int cluster = -1;
    double width = 900, height = 600, scale = 1;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--run", o->run, "The store (.h5): a capture or import, or a sweep or ib result file")->required()->check(CLI::ExistingFile);
  std::vector<std::string> names;
  for (const auto& view : headscope::views::figure_views()) names.push_back(view.name);
  for (const auto& view : headscope::views::result_views()) names.push_back(view.name);
  cmd->add_option("--view", o->view, "The view (listed below)")->required()->check(CLI::IsMember(names));
  cmd->add_option("--head", o->head, "The head, L3H5 or 3:5 (default 0:0)");
  cmd->add_option("--sample", o->sample, "The sample index (default 0)")->check(headscope::cli::in_range("--sample", 0, 9e15));
  cmd->add_option("--out", o->out, "Output file; the format follows the extension: .pdf, .svg or .png")->required();
  cmd->add_option("--width", o->width, "Width in points (PDF, SVG) or pixels (PNG; times --scale), default 900")
      ->check(headscope::cli::in_range("--width", 16, 16384));
  cmd->add_option("--height", o->height, "Height, default 600")->check(headscope::cli::in_range("--height", 16, 16384));
  cmd->add_option("--scale", o->scale, "PNG only: pixels per point, e.g. 2 for a high-resolution figure (default 1)")
      ->check(headscope::cli::in_range("--scale", 0.1, 8));
  cmd->add_option("--metric", o->metric, "Metric of head-grid, token-heatmap and ib-cluster (default entropy)");
  cmd->add_option("--cluster", o->cluster, "ib-cluster: the cluster's id, as in the ib view's table (default the largest)");
  cmd->add_option("--aggregate", o->aggregate, "head-grid: mean, std or sample")
      ->check(CLI::IsMember({"mean", "std", "sample"}));
  std::vector<std::string> scores;
  for (int i = 0; i < headscope::views::kRankingScoreCount; ++i)
    scores.push_back(headscope::views::ranking_score_option(headscope::views::RankingScore(i)));
  cmd->add_option("--score", o->score,
                  "rankings: the bar chart's score; flow: the small multiples' order (composite, flow, hub, skip, sequential); one of " +
                      CLI::detail::join(scores, ", "))
      ->check(CLI::IsMember(scores));
  cmd->add_option("--compare", o->compare, "compare: the second run (another model on the same prompts)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--threshold", o->threshold, "compare: composite threshold (default 0.6)")
      ->check(headscope::cli::in_range("--threshold", 0, 1));
  cmd->add_flag("--joint", o->joint, "compare: normalise hub and skip over both runs' heads instead of per run");
  cmd->add_option("--colormap", o->colormap, "viridis, magma or cool-warm")
      ->check(CLI::IsMember(headscope::plot::Colormap::names()));
  cmd->callback([o] {
    using namespace headscope;
    const auto head = store::parse_head_name(o->head);
    if (!head) throw CLI::ValidationError("--head", "expected L<layer>H<head> or layer:head, got " + o->head);
    if (!plot::figure_format_for_path(o->out))
      throw CLI::ValidationError("--out", o->out + ": the file name must end in .pdf, .svg or .png");
    const views::ResultView* result_view = views::find_result_view(o->view);
    if (views::is_result_file(o->run) || result_view) {  // sweep and ib files have views of their own
      if (!views::is_result_file(o->run))
        throw CLI::ValidationError("--view", o->view + " reads a " + views::source_file_kind(result_view->source) + " result file; " +
                                                 o->run + " is not one");
      const views::ResultFile file = views::open_result_file(o->run);
      if (!result_view || views::source_file_kind(result_view->source) != file.kind) {
        std::string names_for_kind;
        for (const auto* view : views::result_views_for(file.kind)) names_for_kind += " " + view->name;
        throw CLI::ValidationError("--view", o->run + " is a " + file.kind + " file; its views:" + names_for_kind);
      }
      views::ResultViewStates states;
      if (file.ib && !views::select_ib_cluster(*file.ib, o->cluster, o->metric, states.ib))
        throw CLI::ValidationError("--cluster", o->run + " has no cluster " + std::to_string(o->cluster));
      views::export_result_view(file, states, *result_view, o->out, {o->width, o->height, o->scale});
      std::printf("wrote %s (%s of %s)\n", o->out.c_str(), o->view.c_str(), o->run.c_str());
      return;
    }
    views::DirectRunData run(o->run);
    const auto& info = run.info();
    if (head->layer >= info.layout.layer_count || head->head >= info.layout.head_count || head->layer < 0 || head->head < 0)
      throw CLI::ValidationError("--head", store::head_name(*head) + " is outside the run's " +
                                               std::to_string(info.layout.layer_count) + " x " +
                                               std::to_string(info.layout.head_count) + " heads");
    if (!o->metric.empty()) {
      std::string stored;
      for (const auto& metric : info.layout.metrics) stored += (stored.empty() ? "" : ", ") + metric.name;
      const auto& metrics = info.layout.metrics;
      if (std::none_of(metrics.begin(), metrics.end(), [&](const auto& metric) { return metric.name == o->metric; }))
        throw CLI::ValidationError("--metric", o->run + " stores no metric '" + o->metric + "' (it stores " + stored + ")");
    }
    if (o->sample < 0 || o->sample >= std::max<std::int64_t>(info.sample_count, 1))
      throw CLI::ValidationError("--sample", "the run has " + std::to_string(info.sample_count) + " samples");
    views::Selection selection{*head, o->sample};
    views::NoModelAttentionSource attention("recomputing it needs the run's model (not available to `headscope export`)");
    views::ViewContext context{&run, &selection, &attention};
    const views::FigureView* view = views::find_figure_view(o->view);
    std::unique_ptr<views::DirectRunData> compare_run;
    if (view->source == views::ViewSource::comparison) {
      if (o->compare.empty()) throw CLI::ValidationError("--compare", "the compare view needs the second run: --compare OTHER.h5");
      compare_run = std::make_unique<views::DirectRunData>(o->compare);
      context.compare_run = compare_run.get();
    }
    views::ViewStates states;
    states.compare.options.composite_threshold = o->threshold;
    if (o->joint) states.compare.options.normalization = analysis::ComparisonNormalization::joint;
    if (!o->metric.empty()) states.head_grid.metric = states.token_heatmap.metric = o->metric;
    states.head_grid.aggregate = o->aggregate == "std"      ? views::HeadGridAggregate::std
                                 : o->aggregate == "sample" ? views::HeadGridAggregate::selected_sample
                                                            : views::HeadGridAggregate::mean;
    if (const plot::Colormap* map = plot::Colormap::find(o->colormap)) {
      states.head_grid.colormap = states.token_heatmap.colormap = states.attention_matrix.colormap = map->id();
      states.flow.colormap = states.compare.colormap = map->id();
    }
    for (int i = 0; i < views::kRankingScoreCount; ++i)
      if (views::ranking_score_option(views::RankingScore(i)) == o->score) states.rankings.score = views::RankingScore(i);
    for (int i = 0; i < analysis::kFlowScoreKindCount; ++i) {  // "hub" names FlowScoreKind::hub_score
      const auto kind = analysis::FlowScoreKind(i);
      if (o->score == analysis::flow_score_name(kind) || (kind == analysis::FlowScoreKind::hub_score && o->score == "hub"))
        states.flow.rank_by = kind;
    }
    if (view->source == views::ViewSource::comparison) {  // a mismatch is an error here, not a figure of the message
      std::string message;
      if (!views::current_comparison(context, states.compare, &message)) throw std::runtime_error(message);
    }
    views::export_view(context, states, *view, o->out, {o->width, o->height, o->scale});
    std::printf("wrote %s (%s, %s, sample %lld)\n", o->out.c_str(), o->view.c_str(), store::head_name(*head).c_str(),
                static_cast<long long>(o->sample));
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
