// Windows of sweep and ib result files (see result_windows.h). Each is an ImGui window with one tab per
// result view of its kind; the figure fills the tab (the ib view leaves room for its cluster table, whose
// rows open the ib-cluster tab on the clicked cluster, and ib-cluster for all the cluster's steps) and
// exports next to the file, named FILE-VIEW.EXT, at the size seen.
#include "app/gui/result_windows.h"

#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

namespace headscope::app {

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
  std::string pending;
  if (view.name == "sweep") {
    views::sweep_view_controls(result.states.sweep);
    ImGui::SameLine();
  } else if (view.name == "ib-cluster") {
    views::ib_cluster_view_controls(result.file, result.states.ib);
    ImGui::SameLine();
  }
  for (const char* extension : {"pdf", "svg", "png"}) {
    std::string label = extension;
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (ImGui::SmallButton((label + "##" + view.name).c_str())) pending = extension;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("export this figure as %s next to the file", label.c_str());
    ImGui::SameLine();
  }
  ImGui::TextDisabled("%s", result.status.c_str());
  ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool table = view.name == "ib" || view.name == "ib-cluster";
  const float table_height = table ? ImGui::GetTextLineHeightWithSpacing() * 12 + 8 : 0;
  const float height = std::max(240.0f, avail.y - table_height);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), textures_, figure_fonts_);
  const plot::Rect frame{{origin.x, origin.y}, {origin.x + avail.x, origin.y + height}};
  canvas.fill_rect(frame, plot::style().background);  // figures assume a white page
  view.draw(canvas, frame, result.file, result.states);
  ImGui::SetCursorScreenPos(origin);
  ImGui::Dummy(ImVec2(avail.x, height));
  if (view.name == "ib" && views::ib_cluster_table(*result.file.ib, result.states.ib)) result.select_tab = "ib-cluster";
  if (view.name == "ib-cluster") views::ib_cluster_steps_table(result.file, result.states.ib);
  if (pending.empty()) return;
  const std::filesystem::path source(result.path);
  const auto out = source.parent_path() / (source.stem().string() + "-" + view.name + "." + pending);
  try {
    views::export_result_view(result.file, result.states, view, out.string(), {std::max(320.0f, avail.x), std::max(240.0f, height), 2});
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
