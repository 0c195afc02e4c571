// The analysis views (heartbeat, jsd, flow, rankings) on a store with planted structure (the generator of
// tests/core/test_store_analysis.cpp): real headless ImGui frames, the numbers each view shows (pulses
// of the planted head, JSD peaks on the recorded step starts, the top composite head, rankings), the
// plain messages for a teacher-forced run and a run without flow matrices, the rankings table selecting a
// head on click, and export of each view to PDF, SVG and PNG.
#include <gtest/gtest.h>
#include <cairo.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/store/writer.h"
#include "../core/comparison_test_data.h"
#include "../core/planted_store_data.h"
#include "view_test_support.h"
#include "views/analysis_common.h"
#include "views/view_registry.h"

using namespace headscope;

namespace {

// Six samples, two per level 1..3; `flow` false: no flow matrices; `generate` false: teacher-forced.
std::string planted_store(const std::string& name, bool flow = true, bool generate = true) {
  const auto path = (test::temp_dir() / name).string();
  auto writer = store::StoreWriter::create(path, test::planted_layout(flow ? 3 : 0), {});
  int index = 0;
  for (int level = 1; level <= 3; ++level)
    for (int copy = 0; copy < 2; ++copy) {
      auto sample = test::planted_sample(index++, level, generate);
      if (!flow) sample.flow.clear(), sample.flow_positions.clear();
      writer->append(sample);
    }
  return path;
}

std::string drawn_text(views::RunData& run, views::Selection selection, const std::string& view_name) {
  test::TextCanvas canvas;
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  views::find_figure_view(view_name)->draw(canvas, {{0, 0}, {900, 600}}, context, states);
  return canvas.all;
}

}  // namespace

TEST(AnalysisViews, RenderRealFramesAndShowThePlantedStructure) {
  const std::string path = planted_store("views-planted.h5");
  views::DirectRunData run(path);
  views::Selection selection{{1, 0}, 4};  // the telegraph head, a level-3 sample
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  test::HeadlessImGui imgui;
  for (const char* name : {"heartbeat", "jsd", "flow", "rankings"}) {
    SCOPED_TRACE(name);
    const views::FigureView* view = views::find_figure_view(name);
    ASSERT_NE(view, nullptr);
    plot::RecordingTextureProvider textures;
    int vertices = 0;
    for (int frame = 0; frame < 3; ++frame) vertices = test::render_frame(*view, context, states, imgui, textures);
    EXPECT_GT(vertices, 400);
    if (std::string(name) == "flow") {
      EXPECT_GE(textures.requests, 3 * 8) << "each matrix and colorbar, every frame";
      EXPECT_LE(textures.uploads, 12) << "uploaded once, then reused";
    }
  }
  const std::string heartbeat = drawn_text(run, selection, "heartbeat");
  EXPECT_NE(heartbeat.find("L1H0 (selected): 3 heartbeats"), std::string::npos) << heartbeat;
  EXPECT_NE(heartbeat.find("calibration"), std::string::npos);
  const std::string jsd = drawn_text(run, {{0, 1}, 4}, "jsd");
  EXPECT_NE(jsd.find("4 peaks; boundaries P 0.75, R 1.00"), std::string::npos) << jsd;  // 4 starts, the first unscored
  const std::string flow = drawn_text(run, selection, "flow");
  EXPECT_NE(flow.find("#1 L1H1"), std::string::npos) << flow;
  EXPECT_NE(flow.find("hub position of every head"), std::string::npos);
}

TEST(AnalysisViews, JsdPeaksMatchTheRecordedStepStarts) {
  std::vector<float> trace(60, 0.01f);
  for (int start : {16, 28, 40}) trace[static_cast<std::size_t>(start)] = 0.6f;
  const views::JsdBoundaries found = views::jsd_boundaries(trace, {16, 28, 40}, views::JsdViewState{});
  EXPECT_EQ(found.peaks, (std::vector<int>{16, 28, 40}));
  EXPECT_EQ(found.score.recorded_count, 2);  // the first step has no boundary before it
  EXPECT_DOUBLE_EQ(found.score.recall, 1.0);
  EXPECT_NEAR(found.score.precision, 2.0 / 3.0, 1e-12);
}

TEST(AnalysisViews, RankingsOrderHeadsByEachScore) {
  views::DirectRunData run(planted_store("views-rankings.h5"));
  const auto rows = views::ranking_rows(*run.analysis());
  ASSERT_EQ(rows.size(), 4u);
  auto first = [&](views::RankingScore score) { return views::rank_rows(rows, score).front().head; };
  EXPECT_EQ(first(views::RankingScore::composite), (store::HeadRef{1, 1}));
  EXPECT_EQ(first(views::RankingScore::telegraph), (store::HeadRef{1, 0}));
  EXPECT_EQ(first(views::RankingScore::heartbeats), (store::HeadRef{1, 0}));
  EXPECT_EQ(first(views::RankingScore::boundary_f1), (store::HeadRef{0, 1}));
  const auto ascending = views::rank_rows(rows, views::RankingScore::composite, true);
  EXPECT_FALSE(ascending.front().head == (store::HeadRef{1, 1}));
}

TEST(AnalysisViews, ClickingARankingsRowSelectsTheHead) {
  views::DirectRunData run(planted_store("views-table.h5"));
  views::Selection selection{{0, 0}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  views::RankingsState state;
  test::HeadlessImGui imgui;
  ImGuiIO& io = ImGui::GetIO();
  auto frame = [&] {
    ImGui::NewFrame();
    ImGui::SetNextWindowPos({0, 0});
    ImGui::SetNextWindowSize(io.DisplaySize);
    ImGui::Begin("rankings", nullptr, ImGuiWindowFlags_NoDecoration);
    views::rankings_table(context, state);
    ImGui::End();
    ImGui::Render();
  };
  frame();
  frame();
  // The first body row (highest composite: L1H1) sits just under the header row.
  const float row = ImGui::GetTextLineHeight() + 2 * ImGui::GetStyle().CellPadding.y;
  io.MousePos = {30, ImGui::GetStyle().WindowPadding.y + row * 1.5f};
  frame();
  io.MouseDown[0] = true;
  frame();
  io.MouseDown[0] = false;
  frame();
  EXPECT_EQ(selection.head, (store::HeadRef{1, 1}));
}

TEST(AnalysisViews, SayPlainlyWhatTheRunLacks) {
  views::DirectRunData teacher_forced(planted_store("views-teacher-forced.h5", true, false));
  EXPECT_NE(drawn_text(teacher_forced, {{1, 0}, 0}, "heartbeat").find(views::kTeacherForcedMessage), std::string::npos);
  views::DirectRunData no_flow(planted_store("views-no-flow.h5", false, true));
  EXPECT_NE(drawn_text(no_flow, {{0, 0}, 0}, "flow").find("no flow matrices"), std::string::npos);
  EXPECT_NE(drawn_text(no_flow, {{0, 0}, 0}, "rankings").find("no composite scores"), std::string::npos);
}

TEST(AnalysisViews, ExportEachViewToPdfSvgAndPng) {
  views::DirectRunData run(planted_store("views-export.h5"));
  views::Selection selection{{1, 0}, 4};
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  const auto dir = test::temp_dir();
  for (const char* name : {"heartbeat", "jsd", "flow", "rankings"})
    for (const std::string extension : {"pdf", "svg", "png"}) {
      SCOPED_TRACE(std::string(name) + "." + extension);
      const auto out = dir / (std::string(name) + "." + extension);
      views::export_view(context, states, *views::find_figure_view(name), out.string(), {800, 560, 1});
      std::ifstream in(out, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      const std::string bytes = buffer.str();
      ASSERT_GT(bytes.size(), 1000u);
      if (extension == "pdf") {
        EXPECT_EQ(bytes.rfind("%PDF-", 0), 0u);
        EXPECT_NE(bytes.find("/Subject"), std::string::npos);
      } else if (extension == "svg") {
        EXPECT_NE(bytes.find("<svg"), std::string::npos);
        EXPECT_NE(bytes.find("headscope-provenance"), std::string::npos);
        EXPECT_NE(bytes.rfind("</svg>"), std::string::npos);
      } else {
        cairo_surface_t* image = cairo_image_surface_create_from_png(out.c_str());
        ASSERT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS);
        EXPECT_EQ(cairo_image_surface_get_width(image), 800);
        EXPECT_EQ(cairo_image_surface_get_height(image), 560);
        cairo_surface_destroy(image);
        EXPECT_NE(bytes.find("Comment"), std::string::npos);
      }
    }
}

// The flow view's small multiples follow the chosen score, and every one of the seed's phase criteria is
// drawn with its verdict. Run B of comparison_test_data.h: B0 (L0H0) has the top composite, B1 (L0H1) the
// top flow (7/18 against 9/29).
TEST(AnalysisViews, FlowViewRanksByTheChosenScoreAndDrawsTheCriteria) {
  const auto path = (test::temp_dir() / "views-flow-rank.h5").string();
  test::write_comparison_store(path, "model-b", test::comparison_matrices_b());
  views::DirectRunData run(path);
  views::Selection selection{{0, 0}, 0};
  const auto result = run.analysis();
  ASSERT_TRUE(result && result->has_flow);
  auto drawn = [&](analysis::FlowScoreKind kind) {
    test::TextCanvas canvas;
    views::ViewContext context{&run, &selection, nullptr};
    views::ViewStates states;
    states.flow.rank_by = kind;
    views::find_figure_view("flow")->draw(canvas, {{0, 0}, {900, 600}}, context, states);
    return canvas.all;
  };
  const std::string by_composite = drawn(analysis::FlowScoreKind::composite), by_flow = drawn(analysis::FlowScoreKind::flow);
  EXPECT_NE(by_composite.find("#1 L0H0 [hub]"), std::string::npos) << by_composite;
  EXPECT_NE(by_flow.find("#1 L0H1 [flow]"), std::string::npos) << by_flow;
  ASSERT_EQ(result->phase_criteria.size(), 7u);
  for (const auto& c : result->phase_criteria)
    EXPECT_NE(by_flow.find(c.key + " " + views::format_value(c.value) + (c.passed ? " pass" : " fail")), std::string::npos)
        << c.key << "\n" << by_flow;
}
