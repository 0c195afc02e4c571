// The phase 0 view on a store with planted query-norm/entropy structure (tests/core/phase0_store_data.h):
// real headless ImGui frames; the ranking shows L1H0 (r = -1) first and its numbers in the heading; a run
// without the two metrics says so; export to PDF, SVG and PNG.
#include <gtest/gtest.h>

#include <filesystem>

#include "../core/phase0_store_data.h"
#include "view_test_support.h"
#include "views/view_registry.h"

using namespace headscope;

namespace {

std::string drawn_text(views::RunData& run, views::Selection selection) {
  test::TextCanvas canvas;
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  views::find_figure_view("phase0")->draw(canvas, {{0, 0}, {900, 600}}, context, states);
  return canvas.all;
}

}  // namespace

TEST(Phase0View, RendersTheGridAndTheRankingMostNegativeFirst) {
  views::DirectRunData run(test::phase0_store("phase0-view.h5"));
  views::Selection selection{{0, 0}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  test::HeadlessImGui imgui;
  const views::FigureView* view = views::find_figure_view("phase0");
  ASSERT_NE(view, nullptr);
  plot::RecordingTextureProvider textures;
  int vertices = 0;
  for (int frame = 0; frame < 3; ++frame) vertices = test::render_frame(*view, context, states, imgui, textures);
  EXPECT_GT(vertices, 400);
  const std::string text = drawn_text(run, selection);
  const auto first = text.find("L1H0"), second = text.find("L0H1");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_LT(first, second) << "the ranking's first bar is the most negative r";
  EXPECT_NE(text.find("Pearson r"), std::string::npos);
  EXPECT_NE(text.find("most negative: L1H0, r -1.000, Spearman -1.000"), std::string::npos) << text;
}

TEST(Phase0View, ARunWithoutTheMetricsSaysSo) {
  const auto path = (test::temp_dir() / "phase0-none.h5").string();
  store::StoreLayout layout;
  layout.layer_count = 1;
  layout.head_count = 2;
  layout.metrics = {store::standard_metric("max_attention")};
  layout.metric_type = store::ValueType::float32;
  {
    auto writer = store::StoreWriter::create(path, layout, {});
    store::SampleRecord sample;
    sample.id = "only";
    sample.tokens = {1, 2, 3};
    sample.prompt_length = 3;
    sample.metrics.assign(1, std::vector<float>(6, 0.5f));
    writer->append(sample);
  }
  views::DirectRunData run(path);
  EXPECT_NE(drawn_text(run, {{0, 0}, 0}).find("no query_norm and entropy"), std::string::npos);
}

TEST(Phase0View, ExportsToPdfSvgAndPng) {
  views::DirectRunData run(test::phase0_store("phase0-export.h5"));
  views::Selection selection{{1, 0}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  const auto dir = test::temp_dir();
  for (const std::string extension : {"pdf", "svg", "png"}) {
    const auto out = dir / ("phase0." + extension);
    views::export_view(context, states, *views::find_figure_view("phase0"), out.string(), {800, 560, 1});
    EXPECT_GT(std::filesystem::file_size(out), 1000u) << extension;
  }
}
