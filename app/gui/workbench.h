// The workbench: every open run (each a LiveRunData fed by its own background thread), the shared
// Selection, and the panel layout — runs panel on the left, then a 2 × 2 grid with draggable splitters
// whose panels the view registry places: head grid, attention matrix, token heatmap and, in tabs, head
// drill-down, heartbeat, jsd, flow, rankings and the model comparison (against another open run).
// Proportions (not pixels) are remembered in imgui.ini, so the layout fits a laptop and a large monitor alike.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/store/attention_mode.h"
#include "views/figure_panel.h"
#include "views/data/live_run_data.h"

namespace headscope::app {

class CaptureControl;

// Panel proportions, saved in imgui.ini under [HeadScope][Layout].
struct LayoutRatios {
  float runs_width = 0.17f;    // of the window width
  float grid_width = 0.5f;     // left column of the 2 × 2 area
  float top_height = 0.55f;    // top row of the 2 × 2 area
};

class Workbench {
 public:
  Workbench(plot::TextureProvider* textures, std::vector<ImFont*> figure_fonts,
            std::unique_ptr<views::AttentionSource> attention);
  ~Workbench();

  void open(const std::string& path);
  // Takes every run's latest snapshot and draws the whole window for this frame.
  void draw_frame();
  // True when every run is opened and no read is pending (bench warm-up).
  bool idle() const;
  views::Selection& selection() { return selection_; }
  std::size_t run_count() const { return runs_.size(); }
  // Enables starting and stopping captures from the runs panel (null: not offered).
  void set_capture_control(CaptureControl* captures) { captures_ = captures; }
  void set_capture_defaults(const std::string& model_dir, const std::string& prompts_path);
  // Enables "Sweep this head" in the drill-down: `start` runs the plan (a child process) and opens its
  // result window, returning the result file; it throws std::runtime_error when it cannot start.
  void set_sweep_starter(std::function<std::string(const views::SweepPlan&)> start) { start_sweep_ = std::move(start); }

  static LayoutRatios& layout();
  // Registers the [HeadScope][Layout] section with ImGui's settings (call after CreateContext, before the
  // first NewFrame).
  static void register_settings_handler();

 private:
  struct OpenRun;
  void draw_runs_panel();
  void draw_capture_status(const std::string& path, const OpenRun& run);
  void draw_capture_starter();
  void draw_grid_panel(views::ScreenPlace place, OpenRun& run, plot::Vec2 size);
  void draw_figure_panel(const char* id, const views::FigureView& view, OpenRun& run, plot::Vec2 size);
  // The bottom-right panel: the views placed in tabs.
  void draw_tabbed_panel(OpenRun& run, plot::Vec2 size);
  void start_sweep(const views::SweepPlan& plan, OpenRun& run);
  void export_panel(const views::FigureView& view, OpenRun& run, const std::string& extension, plot::FigureSize figure);
  views::RunData* compare_run_for(OpenRun& run);

  views::FigurePanelLook panel_look_;  // the workbench's panels: buttons at the right, on the window's white
  std::unique_ptr<views::AttentionSource> attention_;
  std::vector<std::unique_ptr<OpenRun>> runs_;
  std::size_t active_ = 0;
  views::Selection selection_;
  std::string open_path_;
  std::string status_;
  std::string export_dir_;
  std::string first_tab_;  // $HEADSCOPE_TAB: the tab to open on the first frame (screenshots)
  CaptureControl* captures_ = nullptr;
  std::string capture_model_, capture_prompts_, capture_error_;
  store::AttentionMode capture_attention_ = store::AttentionMode::model;  // --attention of the next capture
  int capture_nan_first_ = 0;                                            // --nan-first of the next capture
  std::function<std::string(const views::SweepPlan&)> start_sweep_;
  int auto_sweep_samples_ = 0;  // $HEADSCOPE_SWEEP=N: sweep the selected head over N samples once it can (screenshots)
};

}  // namespace headscope::app
