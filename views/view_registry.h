// The registry of every view that draws a figure, by the names the CLI and the app use: one entry per
// view carries what a shell needs to show it — what it reads (a capture run, two runs, a sweep or an ib
// file), where the workbench puts it, its control row, its figure (draw, title, height) and the table it
// shows on screen — so the workbench, the result windows and `headscope export` loop over entries instead
// of choosing by name. Also the provenance written into every exported figure.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "views/attention_matrix.h"
#include "views/compare_view.h"
#include "views/flow_view.h"
#include "views/head_drilldown.h"
#include "views/head_grid.h"
#include "views/ib_cluster_view.h"
#include "views/ib_view.h"
#include "views/sweep_gains.h"
#include "views/sweep_view.h"
#include "views/heartbeat_view.h"
#include "views/jsd_view.h"
#include "views/phase0_view.h"
#include "views/plot/figure_export.h"
#include "views/rankings_view.h"
#include "views/data/result_files.h"
#include "views/token_heatmap.h"

namespace headscope::views {

// What a view reads.
enum class ViewSource {
  capture_run,  // one capture or import store (ViewContext::run)
  comparison,   // two stores of models on the same prompts (ViewContext::run and ::compare_run)
  sweep_file,   // a sweep result file (ResultFile::sweep)
  ib_file,      // an ib result file (ResultFile::ib)
};
// The result-file kind a view of a file reads ("sweep", "ib"); "" for views of runs.
std::string source_file_kind(ViewSource source);

// Where the workbench shows a view of a run: one of the 2 × 2 grid's panels, or a tab of the bottom-right
// one (result windows show every view of their file as a tab).
enum class ScreenPlace { grid_top_left, grid_top_right, grid_bottom_left, tab };

// Where a view's on-screen table goes, if it has one.
enum class TablePlace {
  none,
  instead_of_figure,  // on screen a table; the exported figure is the chart (rankings)
  below_figure,       // under the figure, `table_lines` text lines high (the ib cluster tables)
};

// What a control row may need from its shell beyond the view's data and state (screen only).
struct ControlsContext {
  std::vector<std::string> other_runs;  // paths of the other open runs: the compare menu
  std::string sweep_unavailable;        // why this build cannot start a sweep ("": it can)
  int auto_sweep_samples = 0;           // > 0: plan and start a sweep over N samples once it can (screenshots); consumed
  std::optional<SweepPlan> sweep_to_start;  // out: the sweep the user started from the drill-down
};

// One view. `Source` is what it draws from: `ViewContext&` (runs) or `const ResultFile&` (result files).
template <class Source, class States>
struct ViewEntry {
  using SourceArg = Source;  // (a non-deduced spelling for the shells' templates)
  std::string name;         // CLI name: "head-grid"
  std::string description;  // one line for --help
  ViewSource source;
  ScreenPlace place;
  std::string tab_label;    // the tab's label when not the name ("drill-down")
  // Screen only: the control row left of the export buttons.
  std::function<void(Source, States&, ControlsContext&)> controls;
  std::function<void(plot::Canvas&, plot::Rect, Source, States&)> draw;
  std::function<std::string(Source, States&)> title;
  // The figure's height at `available` height; null: it fills its panel. On screen a taller figure
  // scrolls; an export is at least this tall.
  std::function<float(Source, const States&, float available)> height = nullptr;
  TablePlace table_place = TablePlace::none;
  float table_lines = 0;
  // Screen only: the table; returns the name of a view to bring to the front (a clicked cluster:
  // "ib-cluster"), or "".
  std::function<std::string(Source, States&)> table = nullptr;

  const std::string& label() const { return tab_label.empty() ? name : tab_label; }
};

// Every figure view's UI state: the workbench keeps one per run window; export builds one.
struct ViewStates {
  HeadGridState head_grid;
  TokenHeatmapState token_heatmap;
  AttentionMatrixState attention_matrix;
  HeadDrilldownState head_drilldown;
  HeartbeatViewState heartbeat;
  JsdViewState jsd;
  FlowViewState flow;
  RankingsState rankings;
  CompareViewState compare;
  Phase0ViewState phase0;
};

using FigureView = ViewEntry<ViewContext&, ViewStates>;

const std::vector<FigureView>& figure_views();
const FigureView* find_figure_view(const std::string& name);
// The view the workbench shows at `place` (the first so placed), or null.
const FigureView* figure_view_at(ScreenPlace place);

// Title plus provenance (file, model, capture settings, command line, view, head, sample) of a figure.
plot::FigureMetadata figure_metadata(ViewContext& context, ViewStates& states, const FigureView& view);

// Draws `view` into a file (format from the extension), waiting for nothing: `context.run` must answer
// synchronously (DirectRunData) or have its data at hand. Throws std::runtime_error on failure.
void export_view(ViewContext& context, ViewStates& states, const FigureView& view, const std::string& path,
                 plot::FigureSize size);

// Views of result files (sweep, ib) rather than of a capture run: they draw from a ResultFile.
struct ResultViewStates {
  SweepViewState sweep;
  SweepGainsState sweep_gains;
  IbViewState ib;
};

using ResultView = ViewEntry<const ResultFile&, ResultViewStates>;

const std::vector<ResultView>& result_views();
const ResultView* find_result_view(const std::string& name);
// The result views that read files of `kind`, the first being the default.
std::vector<const ResultView*> result_views_for(const std::string& kind);
// True when `file` holds what `view` reads.
bool view_reads(const ResultView& view, const ResultFile& file);
plot::FigureMetadata result_figure_metadata(const ResultFile& file, ResultViewStates& states, const ResultView& view);
// Throws std::runtime_error when the view reads another kind of file or the export fails.
void export_result_view(const ResultFile& file, ResultViewStates& states, const ResultView& view, const std::string& path,
                        plot::FigureSize size);

}  // namespace headscope::views
