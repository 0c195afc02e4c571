// The model comparison view on the hand-worked runs of tests/core/comparison_test_data.h: real headless
// frames (matrices uploaded once), the numbers in the heading, plain messages without a second run and for
// mismatched runs, a live pair that fills in without blocking, export to PDF/SVG/PNG with both runs'
// provenance, and `headscope export --view compare --compare OTHER.h5` end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "export_checks.h"
#include "../core/comparison_test_data.h"
#include "view_test_support.h"
#include "views/data/live_run_data.h"

using namespace headscope;

namespace {

using test::read_all;

struct Files {
  std::string a, b, other_prompts;
};

const Files& files() {
  static const Files paths = [] {
    const auto dir = std::filesystem::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / "views-compare";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    Files f{(dir / "a.h5").string(), (dir / "b.h5").string(), (dir / "other.h5").string()};
    test::write_comparison_store(f.a, "model-a", test::comparison_matrices_a(), /*extra=*/true);
    test::write_comparison_store(f.b, "model-b", test::comparison_matrices_b());
    test::write_comparison_store(f.other_prompts, "model-c", test::comparison_matrices_b(), false, 3, "a different prompt");
    return f;
  }();
  return paths;
}

std::string drawn_text(views::RunData& run, views::RunData* other, views::ViewStates& states) {
  test::TextCanvas canvas;
  views::Selection selection;
  views::ViewContext context{&run, &selection, nullptr, other};
  views::find_figure_view("compare")->draw(canvas, {{0, 0}, {1200, 760}}, context, states);
  return canvas.all;
}

}  // namespace

TEST(CompareView, RendersBothModelsWithTheirNumbers) {
  views::DirectRunData a(files().a), b(files().b);
  views::Selection selection;
  views::ViewContext context{&a, &selection, nullptr, &b};
  views::ViewStates states;
  test::HeadlessImGui imgui;
  plot::RecordingTextureProvider textures;
  const views::FigureView* view = views::find_figure_view("compare");
  ASSERT_NE(view, nullptr);
  int vertices = 0;
  for (int frame = 0; frame < 3; ++frame) vertices = test::render_frame(*view, context, states, imgui, textures);
  EXPECT_GT(vertices, 1000);
  EXPECT_GE(textures.requests, 3 * 6) << "four matrices and a colour bar per pair, every frame";
  EXPECT_LE(textures.uploads, 6) << "uploaded once, then reused";

  const std::string text = drawn_text(a, &b, states);
  EXPECT_NE(text.find("model comparison: model-a vs model-b, 3x3 flow over 2 common prompts (composite normalised per run)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("A  model-a: 1/2 heads over 0.60  ·  top head holds 100% of the composite  ·  Gini 0.50"), std::string::npos) << text;
  EXPECT_NE(text.find("B  model-b: 0/2 heads over 0.60"), std::string::npos) << text;
  EXPECT_NE(text.find("Gini 0.10"), std::string::npos) << text;
  EXPECT_NE(text.find("model-a top: L0H1 (0.87)"), std::string::npos) << text;
  EXPECT_NE(text.find("model-b top: L0H0 (0.52)"), std::string::npos) << text;
  EXPECT_NE(text.find("hub position (TV distance 0.50)"), std::string::npos) << text;
  EXPECT_NE(text.find("note: compared on the 2 prompts both runs have"), std::string::npos) << text;

  states.compare.options.normalization = analysis::ComparisonNormalization::joint;  // recomputed, not stale
  EXPECT_NE(drawn_text(a, &b, states).find("model-b top: L0H1 (0.43)"), std::string::npos);
}

TEST(CompareView, SaysPlainlyWhyItCannotCompare) {
  views::DirectRunData a(files().a), other(files().other_prompts);
  views::ViewStates states;
  EXPECT_NE(drawn_text(a, nullptr, states).find(views::kNoCompareRunMessage), std::string::npos);
  EXPECT_NE(drawn_text(a, &other, states).find("captured on different prompt sets"), std::string::npos);
}

TEST(CompareView, LiveRunsFillInWithoutBlocking) {
  views::LiveRunData a(files().a), b(files().b);
  views::ViewStates states;
  views::Selection selection;
  views::ViewContext context{&a, &selection, nullptr, &b};
  std::string message;
  for (int round = 0; round < 4 && !views::current_comparison(context, states.compare, &message); ++round) {
    a.wait_idle();  // the first calls only ask: open, then average the common prompts' matrices
    b.wait_idle();
    a.begin_frame();
    b.begin_frame();
  }
  const auto comparison = views::current_comparison(context, states.compare, &message);
  ASSERT_NE(comparison, nullptr) << message;
  EXPECT_EQ(comparison->a.heads_over_threshold, 1);
  EXPECT_NEAR(comparison->b.scores.at(0, 0).composite, 76.0 / 145, 1e-6);
}

TEST(CompareView, ExportsWithBothRunsProvenance) {
  views::DirectRunData a(files().a), b(files().b);
  views::Selection selection;
  views::ViewContext context{&a, &selection, nullptr, &b};
  views::ViewStates states;
  const auto dir = test::temp_dir();
  for (const std::string extension : {"pdf", "svg", "png"}) {
    SCOPED_TRACE(extension);
    const auto out = dir / ("compare." + extension);
    views::export_view(context, states, *views::find_figure_view("compare"), out.string(), {1200, 760, 1});
    const std::string bytes = read_all(out);
    ASSERT_GT(bytes.size(), 1000u);
    if (extension == "pdf") {
      EXPECT_EQ(bytes.rfind("%PDF-", 0), 0u);
    } else {
      EXPECT_NE(bytes.find("compare_file"), std::string::npos);  // the PDF's info dictionary may be encoded
    }
  }
  const auto metadata = views::figure_metadata(context, states, *views::find_figure_view("compare"));
  bool has_compare_file = false;
  for (const auto& [key, value] : metadata.fields) has_compare_file |= key == "compare_file" && value == files().b;
  EXPECT_TRUE(has_compare_file);
}

TEST(CompareView, CommandLineExport) {
  const auto dir = test::temp_dir();
  const std::string exe = test::headscope_exe().string();
  const auto out = dir / "compare.png";
  const std::string ok = exe + " export --run " + files().a + " --view compare --compare " + files().b + " --out " + out.string() +
                         " --width 1200 --height 760 > /dev/null";
  ASSERT_EQ(std::system(ok.c_str()), 0) << ok;
  EXPECT_GT(std::filesystem::file_size(out), 5000u);
  const auto err = dir / "err.txt";
  const std::string missing = exe + " export --run " + files().a + " --view compare --out " + (dir / "x.png").string() + " 2> " + err.string();
  EXPECT_NE(std::system(missing.c_str()), 0);
  EXPECT_NE(read_all(err).find("--compare OTHER.h5"), std::string::npos) << read_all(err);
  const std::string mismatch = exe + " export --run " + files().a + " --view compare --compare " + files().other_prompts +
                               " --out " + (dir / "y.png").string() + " 2> " + err.string();
  EXPECT_NE(std::system(mismatch.c_str()), 0);
  EXPECT_NE(read_all(err).find("different prompt sets"), std::string::npos) << read_all(err);
  EXPECT_FALSE(std::filesystem::exists(dir / "y.png"));
}
