// The views that draw a figure, by the names the CLI and the app's export menu use (head-grid,
// token-heatmap, attention-matrix, head, heartbeat, jsd, flow, rankings, compare), with the per-view UI state they share between screen and export,
// and the provenance written into every exported figure.
#pragma once
#include <functional>
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
#include "views/plot/figure_export.h"
#include "views/rankings_view.h"
#include "views/data/result_files.h"
#include "views/token_heatmap.h"

namespace headscope::views {

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
};

struct FigureView {
  std::string name;         // CLI name: "head-grid"
  std::string description;  // one line for --help
  std::function<void(plot::Canvas&, plot::Rect, ViewContext&, ViewStates&)> draw;
  std::function<std::string(ViewContext&, ViewStates&)> title;
};

const std::vector<FigureView>& figure_views();
const FigureView* find_figure_view(const std::string& name);

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

struct ResultView {
  std::string name;         // CLI name: "sweep"
  std::string description;  // one line for --help
  std::string kind;         // the file kind it reads: "sweep" or "ib"
  std::function<void(plot::Canvas&, plot::Rect, const ResultFile&, ResultViewStates&)> draw;
  std::function<std::string(const ResultFile&, const ResultViewStates&)> title;
};

const std::vector<ResultView>& result_views();
const ResultView* find_result_view(const std::string& name);
// The result views that read files of `kind`, the first being the default.
std::vector<const ResultView*> result_views_for(const std::string& kind);
plot::FigureMetadata result_figure_metadata(const ResultFile& file, const ResultViewStates& states, const ResultView& view);
// Throws std::runtime_error when the view reads another kind of file or the export fails.
void export_result_view(const ResultFile& file, ResultViewStates& states, const ResultView& view, const std::string& path,
                        plot::FigureSize size);

}  // namespace headscope::views
