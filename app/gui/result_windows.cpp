// Windows of sweep and ib result files (see result_windows.h). Each is an ImGui window with one tab per
// result view of its kind, drawn by the figure panel (figure_panel.h) as the registry entry says (the ib
// view's cluster table opens the ib-cluster tab on the clicked cluster); a figure exports next to the
// file, named FILE-VIEW.EXT, at the size seen.
#include "app/gui/result_windows.h"

#include <imgui.h>

#include <cstdlib>
#include <filesystem>

namespace headscope::app {

ResultWindows::ResultWindows(plot::TextureProvider* textures, std::vector<ImFont*> figure_fonts) {
  look_.textures = textures;
  look_.fonts = std::move(figure_fonts);
  look_.buttons_right = false;
  look_.export_note = " next to the file";
  look_.paint_page = true;
  look_.min_figure_height = 240;
}

void ResultWindows::open(const std::string& path) {
  auto result = std::make_unique<Open>();
  result->path = path;
  try {
    result->file = views::open_result_file(path, /*background=*/true);
    // Documentation shots: HEADSCOPE_TAB names the tab to open on, HEADSCOPE_IB_CLUSTER the cluster id.
    if (const char* tab = std::getenv("HEADSCOPE_TAB")) result->select_tab = tab;
    if (const char* cluster = std::getenv("HEADSCOPE_IB_CLUSTER"); cluster && result->file.ib)
      views::select_ib_cluster(*result->file.ib, std::atoi(cluster), "", result->states.ib);
  } catch (const std::exception& e) {
    result->error = e.what();
  }
  results_.push_back(std::move(result));
}

void ResultWindows::open_watched(const std::string& path, std::unique_ptr<ResultWatch> watch) {
  auto result = std::make_unique<Open>();
  result->path = path;
  result->watch = std::move(watch);
  results_.push_back(std::move(result));
}

void ResultWindows::draw_figure(Open& result, const views::ResultView& view) {
  views::ControlsContext controls;  // result views ask nothing of the shell
  const views::FigurePanelOutcome outcome = views::draw_figure_panel(look_, view, result.file, result.states, controls, result.status);
  if (!outcome.bring_to_front.empty()) result.select_tab = outcome.bring_to_front;
  if (outcome.export_extension.empty()) return;
  const std::filesystem::path source(result.path);
  const auto out = source.parent_path() / (source.stem().string() + "-" + view.name + "." + outcome.export_extension);
  try {
    views::export_result_view(result.file, result.states, view, out.string(), outcome.figure);
    result.status = "wrote " + out.string();
  } catch (const std::exception& e) {
    result.status = e.what();
  }
}

void ResultWindows::draw() {
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  for (std::size_t i = 0; i < results_.size(); ++i) {
    Open& result = *results_[i];
    if (result.watch) result.watch->refresh(result.file);
    const std::string title = (result.file.kind.empty() ? "result" : result.file.kind) + ": " +
                              std::filesystem::path(result.path).filename().string() + "###result" + std::to_string(i);
    // A watched file (a sweep started from the drill-down) opens over the top half: the drill-down stays in view.
    const float offset = 24.0f * static_cast<float>(i), top_share = result.watch ? 0.52f : 0.86f;
    ImGui::SetNextWindowPos(ImVec2(display.x * (result.watch ? 0.18f : 0.08f) + offset, display.y * 0.03f + offset), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(display.x * (result.watch ? 0.8f : 0.84f), display.y * top_share), ImGuiCond_FirstUseEver);
    if (!ImGui::Begin(title.c_str())) {
      ImGui::End();
      continue;
    }
    if (result.watch) result.watch->draw_header(result.file);
    if (!result.error.empty()) {
      ImGui::TextWrapped("%s", result.error.c_str());
    } else if (ImGui::BeginTabBar("##result-views")) {
      const std::string select = std::move(result.select_tab);
      result.select_tab.clear();
      for (const views::ResultView* view : views::result_views_for(result.file.kind))
        if (ImGui::BeginTabItem(view->name.c_str(), nullptr, view->name == select ? ImGuiTabItemFlags_SetSelected : 0)) {
          draw_figure(result, *view);
          ImGui::EndTabItem();
        }
      ImGui::EndTabBar();
    }
    ImGui::End();
  }
}

}  // namespace headscope::app
