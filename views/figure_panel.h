// One figure panel for both shells (the workbench's panels and tabs, the result windows' tabs): a view's
// control row with the PDF / SVG / PNG buttons, then its figure on an ImGui canvas — scrolling when the
// view wants more height than the panel has — and its on-screen table, all as the registry entry says.
// The shell frames the panel (child window or tab) and writes the export; `FigurePanelLook` holds what
// differs between the shells' looks.
#pragma once
#include <string>
#include <vector>

#include "views/plot/canvas_imgui.h"
#include "views/view_registry.h"

namespace headscope::views {

struct FigurePanelLook {
  plot::TextureProvider* textures = nullptr;
  std::vector<ImFont*> fonts;  // the figure fonts (canvas_imgui.h)
  // Workbench: the buttons end the control row at the right, which is spaced `control_spacing`. Result
  // windows: the buttons follow the controls, then the last export's status.
  bool buttons_right = true;
  ImVec2 control_spacing{6, 4};
  std::string export_note;        // after "export this figure as PDF" in the buttons' tooltip
  bool paint_page = false;        // fill the figure white first (on a window's colour; figures assume a page)
  float min_figure_height = 0;    // the figure keeps this height whatever the table below it takes
};

struct FigurePanelOutcome {
  std::string export_extension;  // "pdf", "svg" or "png" on the frame a button was pressed, else ""
  plot::FigureSize figure;       // the figure's size as seen: what an export is drawn at
  std::string bring_to_front;    // a view the table asked the shell to show ("" none)
};

// Draws the panel's contents in the current window; `status` follows the buttons when they do not end
// the row (result windows).
template <class Source, class States>
FigurePanelOutcome draw_figure_panel(const FigurePanelLook& look, const ViewEntry<Source, States>& view,
                                     typename ViewEntry<Source, States>::SourceArg source, States& states,
                                     ControlsContext& controls, const std::string& status = "");

}  // namespace headscope::views
