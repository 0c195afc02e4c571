// The view registry and the figure panel both shells draw: every entry carries what a shell needs (one
// view per panel of the workbench's grid, the tabs in order under unique labels, controls, draw and title),
// and every figure view draws as a panel in headless ImGui frames — control row, export buttons, figure or
// table — reporting the size an export of what is seen would take.
#include <gtest/gtest.h>

#include "view_test_support.h"
#include "views/figure_panel.h"

using namespace headscope;

TEST(ViewRegistry, PlacesOneViewPerGridPanelAndTabsTheRest) {
  using views::ScreenPlace;
  ASSERT_NE(views::figure_view_at(ScreenPlace::grid_top_left), nullptr);
  ASSERT_NE(views::figure_view_at(ScreenPlace::grid_top_right), nullptr);
  ASSERT_NE(views::figure_view_at(ScreenPlace::grid_bottom_left), nullptr);
  EXPECT_EQ(views::figure_view_at(ScreenPlace::grid_top_left)->name, "head-grid");
  EXPECT_EQ(views::figure_view_at(ScreenPlace::grid_top_right)->name, "attention-matrix");
  EXPECT_EQ(views::figure_view_at(ScreenPlace::grid_bottom_left)->name, "token-heatmap");
  std::vector<std::string> tabs;
  for (const auto& view : views::figure_views()) {
    EXPECT_TRUE(view.controls && view.draw && view.title) << view.name;
    if (view.place == ScreenPlace::tab) tabs.push_back(view.label());
  }
  EXPECT_EQ(tabs, (std::vector<std::string>{"drill-down", "heartbeat", "jsd", "flow", "rankings", "phase 0", "compare"}));
  EXPECT_EQ(views::find_figure_view("compare")->source, views::ViewSource::comparison);
  EXPECT_EQ(views::find_figure_view("rankings")->table_place, views::TablePlace::instead_of_figure);
}

TEST(ViewRegistry, ResultViewsReadTheirFileKind) {
  std::vector<std::string> sweep, ib;
  for (const auto* view : views::result_views_for("sweep")) sweep.push_back(view->name);
  for (const auto* view : views::result_views_for("ib")) ib.push_back(view->name);
  EXPECT_EQ(sweep, (std::vector<std::string>{"sweep", "sweep-gains"}));
  EXPECT_EQ(ib, (std::vector<std::string>{"ib", "ib-cluster"}));
  EXPECT_TRUE(views::result_views_for("capture").empty());
  for (const auto& view : views::result_views()) {
    EXPECT_TRUE(view.draw && view.title) << view.name;
    views::ResultFile other;
    other.kind = views::source_file_kind(view.source) == "sweep" ? "ib" : "sweep";
    EXPECT_FALSE(views::view_reads(view, other)) << view.name;
  }
}

TEST(FigurePanel, EveryFigureViewDrawsAsAPanelAtTheSizeAnExportTakes) {
  test::HeadlessImGui imgui(1280, 800);
  views::DirectRunData run(test::small_demo_store());
  views::Selection selection{{2, 1}, 1};
  views::NoModelAttentionSource attention;
  views::ViewContext context{&run, &selection, &attention};
  views::ViewStates states;
  plot::RecordingTextureProvider textures;
  views::FigurePanelLook look;
  look.textures = &textures;
  look.fonts = imgui.fonts;
  for (const auto& view : views::figure_views()) {
    SCOPED_TRACE(view.name);
    views::FigurePanelOutcome outcome;
    ImVec2 avail;
    int vertices = 0;
    for (int frame = 0; frame < 3; ++frame) {
      ImGui::NewFrame();
      ImGui::SetNextWindowPos({0, 0});
      ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
      ImGui::Begin("panel", nullptr, ImGuiWindowFlags_NoDecoration);
      avail = ImGui::GetContentRegionAvail();
      views::ControlsContext controls;
      controls.sweep_unavailable = "no capture engine in this test";
      outcome = views::draw_figure_panel(look, view, context, states, controls);
      EXPECT_FALSE(controls.sweep_to_start);
      ImGui::End();
      ImGui::Render();
      vertices = ImGui::GetDrawData()->TotalVtxCount;
    }
    EXPECT_GT(vertices, 200) << "drew too little";
    EXPECT_TRUE(outcome.export_extension.empty());
    EXPECT_TRUE(outcome.bring_to_front.empty());
    // The figure as seen: the panel's width, its height less the control row (the whole of it for a table).
    EXPECT_FLOAT_EQ(outcome.figure.width, avail.x);
    EXPECT_GT(outcome.figure.height, avail.y - 40);
    EXPECT_LE(outcome.figure.height, std::max<double>(avail.y, view.height ? view.height(context, states, 0) : 0));
    if (view.height) {
      EXPECT_GE(outcome.figure.height, view.height(context, states, 0));
    }
  }
}
