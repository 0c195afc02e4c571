// `headscope compare A.h5 B.h5`: the side-by-side tables on the hand-worked runs of comparison_test_data.h,
// the joint scale, and a plain error (exit code 1, no crash) for runs on different prompts or flow sizes.
#include "../core/comparison_test_data.h"
#include "cli_support.h"

using namespace headscope;

namespace {

struct ComparisonFiles {
  std::string a, b, other_prompts, k4;
};

ComparisonFiles write_files() {
  const auto dir = test::temp_dir();
  ComparisonFiles files{(dir / "a.h5").string(), (dir / "b.h5").string(), (dir / "other.h5").string(), (dir / "k4.h5").string()};
  test::write_comparison_store(files.a, "model-a", test::comparison_matrices_a(), /*extra=*/true);
  test::write_comparison_store(files.b, "model-b", test::comparison_matrices_b());
  test::write_comparison_store(files.other_prompts, "model-c", test::comparison_matrices_b(), false, 3, "a different prompt");
  test::write_comparison_store(files.k4, "model-k4", test::comparison_matrices_b(), false, 4);
  return files;
}

}  // namespace

TEST(CliCompare, PrintsBothModelsSideBySide) {
  const auto files = write_files();
  const auto result = test::run_headscope("compare " + files.a + " " + files.b);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("3x3 flow over 2 common prompts; composite normalised per run, threshold 0.60"), std::string::npos) << out;
  EXPECT_NE(out.find("model-a"), std::string::npos);
  EXPECT_NE(out.find("model-b"), std::string::npos);
  // heads over 0.6: A1 (13/15) only; B none. Top composites 13/15 (L0H1) and 76/145 (L0H0).
  const std::string over = out.substr(out.find("heads over composite 0.60"), 80);
  EXPECT_LT(over.find("1 (50%)"), over.find("0 (0%)")) << over;
  EXPECT_NE(out.find("0.867 L0H1"), std::string::npos) << out;
  EXPECT_NE(out.find("0.524 L0H0"), std::string::npos) << out;
  const std::string gini = out.substr(out.find("Gini of composites"), 80);
  EXPECT_LT(gini.find("0.500"), gini.find("0.096")) << gini;
  EXPECT_NE(out.find("total-variation distance between the hub distributions: 0.500"), std::string::npos) << out;
  EXPECT_NE(out.find("note: compared on the 2 prompts both runs have (model-a has 1 more, model-b 0)"), std::string::npos) << out;

  const auto joint = test::run_headscope("compare --joint " + files.a + " " + files.b);
  ASSERT_EQ(joint.exit_code, 0) << joint.err;
  EXPECT_NE(joint.out.find("composite normalised joint"), std::string::npos);
  EXPECT_NE(joint.out.find("0.433 L0H1"), std::string::npos) << joint.out;  // 13/30 overtakes B0 on the joint scale
}

TEST(CliCompare, MismatchedRunsAreAPlainError) {
  const auto files = write_files();
  auto result = test::run_headscope("compare " + files.a + " " + files.other_prompts);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("captured on different prompt sets: sample 'p1' reads \"two\" in model-a but \"a different prompt\" in model-c"),
            std::string::npos) << result.err;
  result = test::run_headscope("compare " + files.a + " " + files.k4);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("the flow matrices differ in size: model-a has 3x3, model-k4 4x4"), std::string::npos) << result.err;
}
