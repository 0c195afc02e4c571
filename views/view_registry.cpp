// The view registry's entries, their provenance and file export (see view_registry.h).
#include "views/view_registry.h"

#include <stdexcept>

#include "views/data/ib_source_data.h"

namespace headscope::views {

std::string source_file_kind(ViewSource source) {
  switch (source) {
    case ViewSource::sweep_file: return "sweep";
    case ViewSource::ib_file: return "ib";
    default: return "";
  }
}

namespace {

// The drill-down's control row: "Sweep this head", and the shell's screenshot aid that starts one by itself.
void head_drilldown_row(ViewContext& context, ViewStates& states, ControlsContext& shell) {
  SweepLaunchState& launch = states.head_drilldown.sweep;
  SweepPlan plan;
  bool start = head_drilldown_controls(context, states.head_drilldown, shell.sweep_unavailable, &plan);
  if (shell.auto_sweep_samples > 0 && shell.sweep_unavailable.empty() && prepare_sweep_launch(context, launch)) {
    launch.max_samples = shell.auto_sweep_samples;
    shell.auto_sweep_samples = 0;
    plan = plan_sweep(context.run->info(), context.selection->head, launch);
    start = plan.ready();
    if (!start) launch.status = plan.problems.front();
  }
  if (start) shell.sweep_to_start = std::move(plan);
}

}  // namespace

// Fields: name, description, source, place, tab label, controls, draw, title [, height, table place,
// table lines, table].
const std::vector<FigureView>& figure_views() {
  using X = ViewContext&;
  using S = ViewStates&;
  using C = ControlsContext&;
  static const std::vector<FigureView> views = {
      {"head-grid", "layers x heads of a metric, mean/std over samples (--metric, --aggregate)", ViewSource::capture_run,
       ScreenPlace::grid_top_left, "", [](X x, S s, C) { head_grid_controls(s.head_grid, x.run->info()); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_head_grid(c, r, x, s.head_grid); },
       [](X x, S s) { return "head grid: " + head_grid_title(x, s.head_grid); }},
      {"token-heatmap", "heads of the --head's layer over the --sample's tokens for a metric", ViewSource::capture_run,
       ScreenPlace::grid_bottom_left, "", [](X x, S s, C) { token_heatmap_controls(s.token_heatmap, x.run->info()); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_token_heatmap(c, r, x, s.token_heatmap); },
       [](X x, S s) { return "token heatmap: " + token_heatmap_title(x, s.token_heatmap); }},
      {"attention-matrix", "the --head's attention over the --sample's tokens (stored when pinned)", ViewSource::capture_run,
       ScreenPlace::grid_top_right, "", [](X, S s, C) { attention_matrix_controls(s.attention_matrix); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_attention_matrix(c, r, x, s.attention_matrix); },
       [](X x, S s) { return attention_matrix_title(x, s.attention_matrix); }},
      {"head", "drill-down: every metric of the --head over the --sample's tokens", ViewSource::capture_run, ScreenPlace::tab,
       "drill-down", head_drilldown_row,
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_head_drilldown(c, r, x, s.head_drilldown); },
       [](X x, S s) { return "head drill-down: " + head_drilldown_title(x, s.head_drilldown); },
       [](X x, const ViewStates& s, float available) { return head_drilldown_height(x.run->info(), s.head_drilldown, available); }},
      {"heartbeat", "IAF telegraph traces of the --head (and top telegraph heads), pulses; calibration by level",
       ViewSource::capture_run, ScreenPlace::tab, "", [](X, S s, C) { heartbeat_view_controls(s.heartbeat); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_heartbeat_view(c, r, x, s.heartbeat); },
       [](X x, S s) { return heartbeat_view_title(x, s.heartbeat); }},
      {"jsd", "windowed JSD of the --head over the --sample, peaks, recorded step starts, precision/recall",
       ViewSource::capture_run, ScreenPlace::tab, "", [](X, S s, C) { jsd_view_controls(s.jsd); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_jsd_view(c, r, x, s.jsd); },
       [](X x, S s) { return "JSD boundaries: " + jsd_view_title(x, s.jsd); }},
      {"flow", "KxK flow matrices of the top heads by --score (composite|flow|hub|skip|sequential) with their functional types, the --head's mean/std, hub positions, the phase criteria",
       ViewSource::capture_run, ScreenPlace::tab, "", [](X, S s, C) { flow_view_controls(s.flow); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_flow_view(c, r, x, s.flow); },
       [](X x, S s) { return flow_view_title(x, s.flow); }},
      {"rankings", "top 20 heads by a score (--score composite|flow|hub|skip|sequential|telegraph|heartbeats|boundary-f1)",
       ViewSource::capture_run, ScreenPlace::tab, "", [](X, S s, C) { rankings_controls(s.rankings); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_rankings(c, r, x, s.rankings); },
       [](X x, S s) { return "rankings: " + rankings_title(x, s.rankings); }, nullptr, TablePlace::instead_of_figure, 0,
       [](X x, S s) {
         rankings_table(x, s.rankings);
         return std::string();
       }},
      {"phase0", "Spectra's phase 0: layers x heads of the query-norm/entropy Pearson r over tokens, heads ranked most negative first",
       ViewSource::capture_run, ScreenPlace::tab, "phase 0", [](X, S s, C) { phase0_view_controls(s.phase0); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_phase0_view(c, r, x, s.phase0); },
       [](X x, S s) { return phase0_view_title(x, s.phase0); }},
      {"compare", "two models on the same prompts (--compare OTHER.h5): flow composites, heads over the threshold, hubs",
       ViewSource::comparison, ScreenPlace::tab, "", [](X, S s, C shell) { compare_view_controls(s.compare, shell.other_runs); },
       [](plot::Canvas& c, plot::Rect r, X x, S s) { draw_compare_view(c, r, x, s.compare); },
       [](X x, S s) { return compare_view_title(x, s.compare); }},
  };
  return views;
}

const FigureView* find_figure_view(const std::string& name) {
  for (const auto& view : figure_views())
    if (view.name == name) return &view;
  return nullptr;
}

const FigureView* figure_view_at(ScreenPlace place) {
  for (const auto& view : figure_views())
    if (view.place == place) return &view;
  return nullptr;
}

plot::FigureMetadata figure_metadata(ViewContext& context, ViewStates& states, const FigureView& view) {
  const RunInfo& info = context.run->info();
  plot::FigureMetadata metadata;
  metadata.title = view.title(context, states);
  metadata.fields = {
      {"view", view.name},
      {"file", info.path},
      {"run_kind", store::run_kind_name(info.layout.kind)},
      {"run_created", info.created},
      {"run_tool_version", info.tool_version},
      {"model", info.provenance.model_name},
      {"model_path", info.provenance.model_path},
      {"capture_command_line", info.provenance.command_line},
      {"capture_settings", info.provenance.settings_json},
      {"head", store::head_name(context.selection->head)},
      {"sample", std::to_string(context.selection->sample)},
      {"samples_in_run", std::to_string(info.sample_count)},
  };
  if (context.selection->sample < info.sample_count)
    metadata.fields.emplace_back("sample_id", info.samples[static_cast<std::size_t>(context.selection->sample)].id);
  if (view.source == ViewSource::comparison && context.compare_run) {
    const RunInfo& other = context.compare_run->info();
    metadata.fields.insert(metadata.fields.end(), {{"compare_file", other.path},
                                                   {"compare_model", other.provenance.model_name},
                                                   {"compare_capture_command_line", other.provenance.command_line},
                                                   {"samples_in_compare_run", std::to_string(other.sample_count)}});
  }
  return metadata;
}

void export_view(ViewContext& context, ViewStates& states, const FigureView& view, const std::string& path,
                 plot::FigureSize size) {
  const auto format = plot::figure_format_for_path(path);
  if (!format) throw std::runtime_error("export: " + path + ": the file name must end in .pdf, .svg or .png");
  const plot::FigureMetadata metadata = figure_metadata(context, states, view);
  plot::export_figure(path, *format, size, metadata, [&](plot::Canvas& canvas, plot::Rect frame) {
    view.draw(canvas, frame, context, states);
  });
}

// Fields as for figure_views().
const std::vector<ResultView>& result_views() {
  using F = const ResultFile&;
  using S = ResultViewStates&;
  using C = ControlsContext&;
  static const std::vector<ResultView> views = {
      {"sweep", "sweep file: entropy, max attention, k90 vs scale, target and controls, fit, checks", ViewSource::sweep_file,
       ScreenPlace::tab, "", [](F, S s, C) { sweep_view_controls(s.sweep); },
       [](plot::Canvas& c, plot::Rect r, F f, S s) { draw_sweep_view(c, r, *f.sweep, s.sweep); },
       [](F f, S) { return sweep_view_title(*f.sweep); }},
      {"sweep-gains", "sweep file: gain ± SE bars, target/control ratios and verdicts", ViewSource::sweep_file,
       ScreenPlace::tab, "", nullptr, [](plot::Canvas& c, plot::Rect r, F f, S s) { draw_sweep_gains(c, r, *f.sweep, s.sweep_gains); },
       [](F f, S) { return sweep_gains_title(*f.sweep); }},
      {"ib", "ib file: information vs beta, information plane, AIB elbow, clusters", ViewSource::ib_file, ScreenPlace::tab, "",
       nullptr, [](plot::Canvas& c, plot::Rect r, F f, S s) { draw_ib_view(c, r, *f.ib, s.ib); },
       [](F f, S) { return ib_view_title(*f.ib); }, nullptr, TablePlace::below_figure, 12,
       [](F f, S s) { return ib_cluster_table(*f.ib, s.ib) ? std::string("ib-cluster") : std::string(); }},
      {"ib-cluster", "ib file: one cluster's steps (text, sample, level, label, q(t|x)) and heads vs all steps (--cluster, --metric)",
       ViewSource::ib_file, ScreenPlace::tab, "", [](F f, S s, C) { ib_cluster_view_controls(f, s.ib); },
       [](plot::Canvas& c, plot::Rect r, F f, S s) { draw_ib_cluster_view(c, r, f, s.ib); },
       [](F f, S s) { return ib_cluster_view_title(f, s.ib); }, nullptr, TablePlace::below_figure, 12,
       [](F f, S s) {
         ib_cluster_steps_table(f, s.ib);
         return std::string();
       }},
  };
  return views;
}

const ResultView* find_result_view(const std::string& name) {
  for (const auto& view : result_views())
    if (view.name == name) return &view;
  return nullptr;
}

std::vector<const ResultView*> result_views_for(const std::string& kind) {
  std::vector<const ResultView*> found;
  for (const auto& view : result_views())
    if (source_file_kind(view.source) == kind) found.push_back(&view);
  return found;
}

bool view_reads(const ResultView& view, const ResultFile& file) {
  if (file.kind != source_file_kind(view.source)) return false;
  return view.source == ViewSource::sweep_file ? file.sweep != nullptr : file.ib != nullptr;
}

plot::FigureMetadata result_figure_metadata(const ResultFile& file, ResultViewStates& states, const ResultView& view) {
  plot::FigureMetadata metadata;
  metadata.title = view.title(file, states);
  metadata.fields = {{"view", view.name}, {"file", file.path}, {"run_kind", file.kind}};
  if (file.sweep) {
    const SweepData& s = *file.sweep;
    metadata.fields.insert(metadata.fields.end(), {{"run_created", s.created},
                                                   {"model", s.model_name},
                                                   {"sweep_command_line", s.command_line},
                                                   {"intervention", s.intervention},
                                                   {"target", s.target},
                                                   {"null_result", s.null_result}});
  } else if (file.ib) {
    const IbData& ib = *file.ib;
    metadata.fields.insert(metadata.fields.end(), {{"run_created", ib.created},
                                                   {"model", ""},
                                                   {"ib_command_line", ib.command_line},
                                                   {"input", ib.input},
                                                   {"settings", ib.settings_json},
                                                   {"source_store", ib.source_store_path}});
    if (view.name == "ib-cluster") {
      const int cluster = ib_shown_cluster(ib, states.ib);
      metadata.fields.push_back({"cluster", cluster < 0 ? std::string() : std::to_string(ib.clusters[cluster].id)});
      if (file.ib_source)
        metadata.fields.push_back({"metric", ib_cluster_metric(file.ib_source->state().metrics, states.ib.cluster_metric)});
    }
  }
  return metadata;
}

void export_result_view(const ResultFile& file, ResultViewStates& states, const ResultView& view, const std::string& path,
                        plot::FigureSize size) {
  if (!view_reads(view, file))
    throw std::runtime_error("export: view '" + view.name + "' reads " + source_file_kind(view.source) + " files; " + file.path + " is of kind '" +
                             file.kind + "'");
  const auto format = plot::figure_format_for_path(path);
  if (!format) throw std::runtime_error("export: " + path + ": the file name must end in .pdf, .svg or .png");
  plot::export_figure(path, *format, size, result_figure_metadata(file, states, view),
                      [&](plot::Canvas& canvas, plot::Rect frame) { view.draw(canvas, frame, file, states); });
}

}  // namespace headscope::views
