// The figure panel both shells draw (see figure_panel.h): control row and export buttons, the figure
// (scrolling when taller than the panel), the view's table. Instantiated for the two kinds of entry.
#include "views/figure_panel.h"

#include <imgui.h>

#include <algorithm>
#include <cctype>

namespace headscope::views {

namespace {

// The PDF / SVG / PNG buttons; returns the pressed one's extension, or "".
std::string export_buttons(const std::string& view_name, const std::string& note) {
  std::string pressed;
  for (const char* extension : {"pdf", "svg", "png"}) {
    std::string label = extension;
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (ImGui::SmallButton((label + "##" + view_name).c_str())) pressed = extension;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("export this figure as %s%s", label.c_str(), note.c_str());
    ImGui::SameLine();
  }
  return pressed;
}

}  // namespace

template <class Source, class States>
FigurePanelOutcome draw_figure_panel(const FigurePanelLook& look, const ViewEntry<Source, States>& view,
                                     typename ViewEntry<Source, States>::SourceArg source, States& states,
                                     ControlsContext& controls, const std::string& status) {
  FigurePanelOutcome outcome;
  if (look.buttons_right) ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, look.control_spacing);
  if (view.controls) {
    view.controls(source, states, controls);
    ImGui::SameLine();
  }
  if (look.buttons_right) {
    const float buttons = ImGui::CalcTextSize("PDF SVG PNG").x + 36;
    ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - buttons));
  }
  outcome.export_extension = export_buttons(view.name, look.export_note);
  if (look.buttons_right) {
    ImGui::NewLine();
    ImGui::PopStyleVar();
  } else {
    ImGui::TextDisabled("%s", status.c_str());
  }

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (view.table && view.table_place == TablePlace::instead_of_figure) {  // on screen a table; exported, the chart
    outcome.bring_to_front = view.table(source, states);
    outcome.figure = {std::max(320.0f, avail.x), std::max(240.0f, avail.y), 2};
    return outcome;
  }
  const bool table_below = view.table && view.table_place == TablePlace::below_figure;
  const float table_height = table_below ? ImGui::GetTextLineHeightWithSpacing() * view.table_lines + 8 : 0;
  const float panel_height = std::max(look.min_figure_height, avail.y - table_height);
  const bool scrolls = view.height != nullptr;
  if (scrolls) ImGui::BeginChild("##scroll", ImVec2(avail.x, panel_height), false);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float height = scrolls ? view.height(source, states, panel_height - 1) : panel_height;
  const float width = avail.x - (scrolls && height > panel_height ? ImGui::GetStyle().ScrollbarSize : 0);
  plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), look.textures, look.fonts);
  const plot::Rect frame{{origin.x, origin.y}, {origin.x + width, origin.y + height}};
  if (look.paint_page) canvas.fill_rect(frame, plot::style().background);
  view.draw(canvas, frame, source, states);
  ImGui::SetCursorScreenPos(origin);
  ImGui::Dummy(ImVec2(width, height));
  if (scrolls) ImGui::EndChild();
  outcome.figure = {std::max(320.0f, avail.x), std::max(240.0f, panel_height), 2};
  if (scrolls) outcome.figure.height = std::max<double>(outcome.figure.height, view.height(source, states, 0));
  if (table_below) outcome.bring_to_front = view.table(source, states);
  return outcome;
}

template FigurePanelOutcome draw_figure_panel(const FigurePanelLook&, const FigureView&, ViewContext&,
                                              ViewStates&, ControlsContext&, const std::string&);
template FigurePanelOutcome draw_figure_panel(const FigurePanelLook&, const ResultView&, const ResultFile&,
                                              ResultViewStates&, ControlsContext&, const std::string&);

}  // namespace headscope::views
