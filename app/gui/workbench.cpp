// The workbench window's contents (see workbench.h).
//
// Sections:
//   1. layout ratios and their imgui.ini handler
//   2. open runs
//   3. frame: splitters and the 2 × 2 figure area (bottom right: tabs)
//   4. runs panel (files, live indicator, samples, rate; selection)
//   5. figure panels (placed by the view registry; drawn by figure_panel.h; export)
#include "app/gui/workbench.h"

#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "app/gui/capture_control.h"
#include "views/figure_panel.h"
#include "core/store/layout.h"

namespace headscope::app {

// ---------------------------------------------------------------------------------------------------
// 1. layout ratios and their imgui.ini handler
// ---------------------------------------------------------------------------------------------------

LayoutRatios& Workbench::layout() {
  static LayoutRatios ratios;
  return ratios;
}

void Workbench::register_settings_handler() {
  ImGuiSettingsHandler handler;
  handler.TypeName = "HeadScope";
  handler.TypeHash = ImHashStr("HeadScope");
  handler.ReadOpenFn = [](ImGuiContext*, ImGuiSettingsHandler*, const char* name) -> void* {
    return std::string(name) == "Layout" ? &layout() : nullptr;
  };
  handler.ReadLineFn = [](ImGuiContext*, ImGuiSettingsHandler*, void* entry, const char* line) {
    auto* ratios = static_cast<LayoutRatios*>(entry);
    float value = 0;
    if (std::sscanf(line, "RunsWidth=%f", &value) == 1) ratios->runs_width = std::clamp(value, 0.05f, 0.5f);
    if (std::sscanf(line, "GridWidth=%f", &value) == 1) ratios->grid_width = std::clamp(value, 0.1f, 0.9f);
    if (std::sscanf(line, "TopHeight=%f", &value) == 1) ratios->top_height = std::clamp(value, 0.1f, 0.9f);
  };
  handler.WriteAllFn = [](ImGuiContext*, ImGuiSettingsHandler* self, ImGuiTextBuffer* out) {
    const LayoutRatios& ratios = layout();
    out->appendf("[%s][Layout]\nRunsWidth=%.4f\nGridWidth=%.4f\nTopHeight=%.4f\n\n", self->TypeName, ratios.runs_width,
                 ratios.grid_width, ratios.top_height);
  };
  ImGui::GetCurrentContext()->SettingsHandlers.push_back(handler);
}

// ---------------------------------------------------------------------------------------------------
// 2. open runs
// ---------------------------------------------------------------------------------------------------

struct Workbench::OpenRun {
  std::unique_ptr<views::LiveRunData> data;
  views::ViewStates states;
  // Arrival rate of samples, measured over the last few seconds.
  std::int64_t rate_samples = 0;
  std::chrono::steady_clock::time_point rate_since = std::chrono::steady_clock::now();
  double samples_per_second = 0;
  double tokens_per_second = 0;
  std::int64_t rate_tokens = 0;
};

Workbench::Workbench(plot::TextureProvider* textures, std::vector<ImFont*> figure_fonts,
                     std::unique_ptr<views::AttentionSource> attention)
    : attention_(std::move(attention)) {
  panel_look_.textures = textures;
  panel_look_.fonts = std::move(figure_fonts);
  const char* dir = std::getenv("HEADSCOPE_FIGURE_DIR");
  export_dir_ = dir ? dir : (std::filesystem::current_path() / "headscope-figures").string();
  if (const char* tab = std::getenv("HEADSCOPE_TAB")) first_tab_ = tab;
  if (const char* sweep = std::getenv("HEADSCOPE_SWEEP")) auto_sweep_samples_ = std::max(0, std::atoi(sweep));
}

Workbench::~Workbench() = default;

void Workbench::open(const std::string& path) {
  auto run = std::make_unique<OpenRun>();
  run->data = std::make_unique<views::LiveRunData>(path);
  runs_.push_back(std::move(run));
  active_ = runs_.size() - 1;
}

bool Workbench::idle() const {
  for (const auto& run : runs_)
    if (run->data->pending_requests() > 0 || (!run->data->info().opened && run->data->info().error.empty())) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// 3. frame: splitters and the 2 × 2 figure area
// ---------------------------------------------------------------------------------------------------

namespace {

// A draggable bar between two panels; moves `ratio` by the drag over `total` pixels.
void splitter(const char* id, bool vertical, float thickness, float length, float total, float* ratio, float lo, float hi) {
  ImGui::InvisibleButton(id, vertical ? ImVec2(thickness, length) : ImVec2(length, thickness));
  const bool active = ImGui::IsItemActive();
  if (ImGui::IsItemHovered() || active) ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
  if (active && total > 0) {
    const float delta = vertical ? ImGui::GetIO().MouseDelta.x : ImGui::GetIO().MouseDelta.y;
    if (delta != 0) {
      *ratio = std::clamp(*ratio + delta / total, lo, hi);
      ImGui::MarkIniSettingsDirty();
    }
  }
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  ImGui::GetWindowDrawList()->AddRectFilled(a, b, ImGui::GetColorU32(active ? ImGuiCol_SeparatorActive : ImGuiCol_Separator));
}

}  // namespace

void Workbench::draw_frame() {
  for (auto& run : runs_) {
    run->data->begin_frame();
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - run->rate_since).count();
    if (seconds >= 2) {
      const auto& info = run->data->info();
      run->samples_per_second = (info.sample_count - run->rate_samples) / seconds;
      run->tokens_per_second = (info.token_count - run->rate_tokens) / seconds;
      run->rate_samples = info.sample_count;
      run->rate_tokens = info.token_count;
      run->rate_since = now;
    }
  }
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(viewport->WorkPos);
  ImGui::SetNextWindowSize(viewport->WorkSize);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(4, 4));
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(4, 4));
  ImGui::Begin("HeadScope", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse |
                   ImGuiWindowFlags_NoBackground);  // glClear paints it: one layer less to fill
  LayoutRatios& ratios = layout();
  const float bar = 5;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float runs_width = std::max(200.0f, std::floor(avail.x * ratios.runs_width));
  ImGui::PushStyleColor(ImGuiCol_ChildBg, ImGui::GetStyleColorVec4(ImGuiCol_WindowBg));
  ImGui::BeginChild("##runs", ImVec2(runs_width, avail.y), true);
  draw_runs_panel();
  ImGui::EndChild();
  ImGui::PopStyleColor();
  ImGui::SameLine(0, 0);
  splitter("##split-runs", true, bar, avail.y, avail.x, &ratios.runs_width, 0.08f, 0.45f);
  ImGui::SameLine(0, 0);

  const float area_width = avail.x - runs_width - bar;
  const float left_width = std::floor((area_width - bar) * ratios.grid_width);
  const float right_width = area_width - bar - left_width;
  const float top_height = std::floor((avail.y - bar) * ratios.top_height);
  const float bottom_height = avail.y - bar - top_height;
  ImGui::BeginChild("##figures", ImVec2(area_width, avail.y), false, ImGuiWindowFlags_NoScrollWithMouse | ImGuiWindowFlags_NoScrollbar);
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0, 0));
  if (runs_.empty()) {
    ImGui::PopStyleVar();
    ImGui::SetCursorPos(ImVec2(area_width / 2 - 200, avail.y / 2 - 20));
    ImGui::TextDisabled("No run open. Open a HeadScope store (.h5) in the runs panel,\nor start with `headscope view FILE`.");
  } else {
    OpenRun& run = *runs_[std::min(active_, runs_.size() - 1)];
    views::clamp_selection(selection_, run.data->info());
    using views::ScreenPlace;
    draw_grid_panel(ScreenPlace::grid_top_left, run, {left_width, top_height});
    ImGui::SameLine(0, 0);
    splitter("##split-columns-top", true, bar, top_height, area_width, &ratios.grid_width, 0.15f, 0.85f);
    ImGui::SameLine(0, 0);
    draw_grid_panel(ScreenPlace::grid_top_right, run, {right_width, top_height});
    splitter("##split-rows", false, bar, area_width, avail.y, &ratios.top_height, 0.15f, 0.85f);
    draw_grid_panel(ScreenPlace::grid_bottom_left, run, {left_width, bottom_height});
    ImGui::SameLine(0, 0);
    splitter("##split-columns-bottom", true, bar, bottom_height, area_width, &ratios.grid_width, 0.15f, 0.85f);
    ImGui::SameLine(0, 0);
    draw_tabbed_panel(run, {right_width, bottom_height});
    ImGui::PopStyleVar();
  }
  ImGui::EndChild();
  ImGui::PopStyleVar(3);
  ImGui::End();
}

// ---------------------------------------------------------------------------------------------------
// 4. runs panel
// ---------------------------------------------------------------------------------------------------

namespace {

bool input_text(const char* label, std::string& text) {
  char buffer[1024];
  std::snprintf(buffer, sizeof buffer, "%s", text.c_str());
  const bool entered = ImGui::InputText(label, buffer, sizeof buffer, ImGuiInputTextFlags_EnterReturnsTrue);
  text = buffer;
  return entered;
}

}  // namespace

void Workbench::draw_runs_panel() {
  ImGui::TextUnformatted("Runs");
  ImGui::Separator();
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    OpenRun& run = *runs_[i];
    const views::RunInfo& info = run.data->info();
    ImGui::PushID(static_cast<int>(i));
    const std::string name = std::filesystem::path(info.path).filename().string();
    if (ImGui::Selectable(name.c_str(), i == active_)) active_ = i;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", info.path.c_str());
    if (!info.error.empty()) {
      ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "error");
      ImGui::TextWrapped("%s", info.error.c_str());
    } else if (!info.opened) {
      ImGui::TextDisabled("opening …");
    } else {
      if (info.live) {
        const float pulse = 0.6f + 0.4f * std::sin(static_cast<float>(ImGui::GetTime()) * 5.0f);
        ImGui::TextColored(ImVec4(0.1f, 0.65f * pulse + 0.2f, 0.2f, 1), "\xe2\x97\x8f live");
      } else {
        ImGui::TextDisabled(info.complete ? "complete" : "interrupted");
      }
      ImGui::SameLine();
      ImGui::Text("%lld samples, %lld tokens", static_cast<long long>(info.sample_count),
                  static_cast<long long>(info.token_count));
      ImGui::TextDisabled("%s  %d x %d heads", info.provenance.model_name.c_str(), info.layout.layer_count,
                          info.layout.head_count);
      if (info.live)
        ImGui::TextDisabled("%.2f samples/s, %.0f tokens/s", run.samples_per_second, run.tokens_per_second);
    }
    draw_capture_status(info.path, run);
    ImGui::PopID();
    ImGui::Spacing();
  }
  ImGui::SetNextItemWidth(-60);
  const bool entered = input_text("##open-path", open_path_);
  ImGui::SameLine();
  if ((ImGui::Button("Open") || entered) && !open_path_.empty()) {
    open(open_path_);
    open_path_.clear();
  }
  draw_capture_starter();
  if (runs_.empty()) return;

  OpenRun& run = *runs_[std::min(active_, runs_.size() - 1)];
  const views::RunInfo& info = run.data->info();
  ImGui::Separator();
  ImGui::TextUnformatted("Selection");
  int head[2] = {selection_.head.layer, selection_.head.head};
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputInt2("##head", head)) selection_.head = {head[0], head[1]};
  ImGui::TextDisabled("head %s (layer, head)", store::head_name(selection_.head).c_str());
  if (!info.layout.pinned_heads.empty()) {
    ImGui::TextDisabled("pinned:");
    for (const auto& pinned : info.layout.pinned_heads) {
      ImGui::SameLine();
      if (ImGui::SmallButton(store::head_name(pinned).c_str())) selection_.head = pinned;
    }
  }
  ImGui::Separator();
  ImGui::Text("Samples (%lld)", static_cast<long long>(info.sample_count));
  ImGui::BeginChild("##samples", ImVec2(0, -ImGui::GetTextLineHeightWithSpacing() * 3), false);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(info.samples.size()));
  while (clipper.Step())
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& sample = info.samples[static_cast<std::size_t>(i)];
      const std::string label = std::to_string(i) + "  " + sample.id + "  (" + std::to_string(sample.token_count) + " tokens)";
      if (ImGui::Selectable(label.c_str(), selection_.sample == i)) selection_.sample = i;
    }
  ImGui::EndChild();
  ImGui::Separator();
  ImGui::TextDisabled("figures: %s", export_dir_.c_str());
  if (!status_.empty()) ImGui::TextWrapped("%s", status_.c_str());
}

// A run that a child capture writes: progress against the prompt set, ETA, Stop; or why it failed.
void Workbench::draw_capture_status(const std::string& path, const OpenRun& run) {
  if (!captures_) return;
  const CaptureChild* child = captures_->find(path);
  if (!child) return;
  const std::int64_t done = run.data->info().sample_count;
  if (child->process.running()) {
    const float fraction = child->total_samples > 0 ? static_cast<float>(done) / child->total_samples : 0.0f;
    char label[96];
    const double eta = run.samples_per_second > 0 ? (child->total_samples - done) / run.samples_per_second : -1;
    if (eta >= 0) std::snprintf(label, sizeof label, "%lld / %lld  ETA %dm%02ds", static_cast<long long>(done),
                                static_cast<long long>(child->total_samples), static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    else std::snprintf(label, sizeof label, "%lld / %lld", static_cast<long long>(done), static_cast<long long>(child->total_samples));
    ImGui::ProgressBar(fraction, ImVec2(-60, 0), label);
    ImGui::SameLine();
    if (ImGui::SmallButton("Stop")) captures_->stop(path);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Stop after the current sample; the store stays resumable");
  } else if (child->process.exit_code() != 0 && done < child->total_samples) {
    ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "capture stopped");
    ImGui::TextWrapped("%s", child->process.failure().c_str());
  }
}

// Start a capture of a model over a prompt set into a new store, opened at once.
void Workbench::draw_capture_starter() {
  if (!captures_) return;
  captures_->poll();
  ImGui::Separator();
  ImGui::TextUnformatted("New capture");
  ImGui::SetNextItemWidth(-1);
  input_text("##capture-model", capture_model_);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("model folder (config.json, *.safetensors, tokenizer)");
  ImGui::SetNextItemWidth(-1);
  input_text("##capture-prompts", capture_prompts_);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("prompt set (.jsonl with text or ids per line)");
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
  if (ImGui::BeginCombo("attention##capture", store::attention_mode_name(capture_attention_))) {
    for (const auto& mode : store::kAttentionModes) {
      if (ImGui::Selectable(mode.name, mode.mode == capture_attention_)) capture_attention_ = mode.mode;
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", mode.description);
    }
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("the attention the metrics measure (--attention)");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4);
  if (ImGui::InputInt("NaN first##capture", &capture_nan_first_, 0)) capture_nan_first_ = std::clamp(capture_nan_first_, 0, 1000000);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("entropy of each sample's first N positions is NaN (--nan-first; Spectra used 2)");
  if (ImGui::Button("Start capture") && !capture_model_.empty() && !capture_prompts_.empty()) {
    try {
      commands::CaptureCommand command;
      command.model_dir = capture_model_;
      command.prompts_path = capture_prompts_;
      command.attention = store::attention_mode_name(capture_attention_);
      command.nan_first = capture_nan_first_;
      open(captures_->start(std::move(command)));
      capture_error_.clear();
    } catch (const std::exception& e) {
      capture_error_ = e.what();
    }
  }
  if (!capture_error_.empty()) ImGui::TextWrapped("%s", capture_error_.c_str());
}

void Workbench::set_capture_defaults(const std::string& model_dir, const std::string& prompts_path) {
  capture_model_ = model_dir;
  capture_prompts_ = prompts_path;
}

// ---------------------------------------------------------------------------------------------------
// 5. figure panels
// ---------------------------------------------------------------------------------------------------

// The run the comparison view sets against `run`: the one chosen under "compare with", else the first
// other open run (and that becomes the choice); null when no other run is open.
views::RunData* Workbench::compare_run_for(OpenRun& run) {
  OpenRun* first_other = nullptr;
  for (auto& other : runs_) {
    if (other.get() == &run) continue;
    if (other->data->info().path == run.states.compare.compare_path) return other->data.get();
    if (!first_other) first_other = other.get();
  }
  if (!first_other) return nullptr;
  run.states.compare.compare_path = first_other->data->info().path;
  return first_other->data.get();
}

void Workbench::export_panel(const views::FigureView& view, OpenRun& run, const std::string& extension, plot::FigureSize figure) {
  views::ViewContext context{run.data.get(), &selection_, attention_.get(), compare_run_for(run)};
  const std::string stem = std::filesystem::path(run.data->info().path).stem().string();
  const std::string file = stem + "-" + view.name + "-" + store::head_name(selection_.head) + "-s" +
                           std::to_string(selection_.sample) + "." + extension;
  const std::filesystem::path path = std::filesystem::path(export_dir_) / file;
  try {
    std::filesystem::create_directories(export_dir_);
    views::export_view(context, run.states, view, path.string(), figure);  // the figure as seen on screen
    status_ = "wrote " + path.string();
  } catch (const std::exception& e) {
    status_ = e.what();
  }
}

// The bottom-right panel: a tab per view the registry places there (drill-down | heartbeat | jsd | flow |
// rankings | compare).
void Workbench::draw_tabbed_panel(OpenRun& run, plot::Vec2 size) {
  ImGui::BeginChild("##tabbed", ImVec2(size.x, size.y), false, ImGuiWindowFlags_NoScrollWithMouse | ImGuiWindowFlags_NoScrollbar);
  if (ImGui::BeginTabBar("##analysis-tabs")) {
    const std::string select = std::move(first_tab_);  // a panel may ask for another tab on the next frame
    first_tab_.clear();
    for (const auto& view : views::figure_views()) {
      if (view.place != views::ScreenPlace::tab) continue;
      const ImGuiTabItemFlags flags = select == view.label() || select == view.name ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(view.label().c_str(), nullptr, flags)) {
        const ImVec2 avail = ImGui::GetContentRegionAvail();
        draw_figure_panel(("##tab-" + view.name).c_str(), view, run, {avail.x, avail.y});
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
}

void Workbench::draw_grid_panel(views::ScreenPlace place, OpenRun& run, plot::Vec2 size) {
  if (const views::FigureView* view = views::figure_view_at(place))
    draw_figure_panel(("##" + view->name).c_str(), *view, run, size);
}

void Workbench::draw_figure_panel(const char* id, const views::FigureView& view, OpenRun& run, plot::Vec2 size) {
  ImGui::BeginChild(id, ImVec2(size.x, size.y), true, ImGuiWindowFlags_NoScrollWithMouse | ImGuiWindowFlags_NoScrollbar);
  views::ControlsContext controls;
  for (const auto& other : runs_)
    if (other.get() != &run) controls.other_runs.push_back(other->data->info().path);
  if (!start_sweep_)
    controls.sweep_unavailable = "This build has no capture engine (built with HEADSCOPE_WITH_TORCH=OFF): run `headscope sweep` "
                                 "where it is built, then open its file here.";
  controls.auto_sweep_samples = auto_sweep_samples_;
  views::ViewContext context{run.data.get(), &selection_, attention_.get(), compare_run_for(run)};
  const views::FigurePanelOutcome outcome = views::draw_figure_panel(panel_look_, view, context, run.states, controls);
  auto_sweep_samples_ = controls.auto_sweep_samples;
  if (controls.sweep_to_start) start_sweep(*controls.sweep_to_start, run);
  if (!outcome.bring_to_front.empty()) first_tab_ = outcome.bring_to_front;
  if (!outcome.export_extension.empty()) export_panel(view, run, outcome.export_extension, outcome.figure);
  ImGui::EndChild();
}

// Hands a plan from the drill-down to the starter, which opens the sweep's result window at once.
void Workbench::start_sweep(const views::SweepPlan& plan, OpenRun& run) {
  views::SweepLaunchState& launch = run.states.head_drilldown.sweep;
  try {
    launch.status = "started: " + std::filesystem::path(start_sweep_(plan)).filename().string();
  } catch (const std::exception& e) {
    launch.status = e.what();
  }
}

}  // namespace headscope::app
