// Model comparison on flow scores: the hand-worked runs of comparison_test_data.h (composites per run and
// on the joint scale, heads over the threshold, hub histograms, concentration, per layer, the matrix
// averaged over heads), the Gini coefficient, the pairing of prompts (by id, reordered, subsets, different
// texts, flow sizes, no ids) and compare_stores on written stores restricted to the common prompts.
#include <gtest/gtest.h>

#include <cmath>

#include "comparison_test_data.h"
#include "core/analysis/flow_comparison.h"
#include "core/store/reader.h"
#include "test_support.h"

using namespace headscope;

namespace {

constexpr double kTol = 1e-6;

analysis::ComparedRun run(const std::string& label, int flow_size, const std::vector<std::pair<std::string, std::string>>& prompts,
                          const std::string& settings = R"({"flow_select":"last_k","mode":"teacher_forced"})") {
  analysis::ComparedRun r;
  r.path = "/tmp/" + label + ".h5";
  r.label = label;
  r.settings = store::decode_run_settings(settings);
  r.layer_count = 1;
  r.head_count = 2;
  r.flow_size = flow_size;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    store::SampleInfo info;
    info.index = static_cast<std::int64_t>(i);
    info.id = prompts[i].first;
    info.metadata_json = prompts[i].second.empty() ? "{}" : "{\"text\":\"" + prompts[i].second + "\"}";
    info.facts = store::decode_sample_facts(info.metadata_json);  // as StoreReader::sample does
    r.samples.push_back(info);
  }
  return r;
}

analysis::FlowComparison hand_comparison(analysis::ComparisonNormalization normalization) {
  const auto a = run("A", 3, {{"p0", "one"}}), b = run("B", 3, {{"p0", "one"}});
  analysis::FlowComparisonOptions options;
  options.normalization = normalization;
  return analysis::compare_flow(analysis::plan_flow_comparison(a, b), a, test::comparison_matrices_a(), b,
                                test::comparison_matrices_b(), options);
}

}  // namespace

TEST(FlowComparison, HandWorkedRunsPerRunNormalisation) {
  const auto c = hand_comparison(analysis::ComparisonNormalization::per_run);
  const auto& a = c.a;
  const auto& b = c.b;
  EXPECT_NEAR(a.scores.at(0, 0).composite, 0.0, kTol);
  EXPECT_NEAR(a.scores.at(0, 1).composite, 13.0 / 15, kTol);
  EXPECT_NEAR(b.scores.at(0, 0).composite, 76.0 / 145, kTol);
  EXPECT_NEAR(b.scores.at(0, 1).composite, 16.0 / 45, kTol);
  EXPECT_NEAR(b.scores.at(0, 0).flow, 9.0 / 29, kTol);
  EXPECT_NEAR(b.scores.at(0, 0).hub_score, 271.0 / 450, kTol);
  EXPECT_NEAR(b.scores.at(0, 1).flow, 7.0 / 18, kTol);
  EXPECT_NEAR(b.scores.at(0, 1).hub_score, 7.0 / 18, kTol);
  // Heads over 0.6, hub positions.
  EXPECT_EQ(a.heads_over_threshold, 1);
  EXPECT_EQ(b.heads_over_threshold, 0);
  EXPECT_EQ(a.hub_counts, (std::vector<int>{2, 0, 0}));
  EXPECT_EQ(a.hub_counts_over_threshold, (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(b.hub_counts, (std::vector<int>{1, 1, 0}));
  EXPECT_NEAR(c.hub_distance, 0.5, kTol);  // shares [1, 0, 0] vs [.5, .5, 0]
  // Concentration: top 10% of 2 heads is 1 head.
  EXPECT_EQ(a.top_count, 1);
  EXPECT_NEAR(a.top_share, 1.0, kTol);
  EXPECT_NEAR(a.gini, 0.5, kTol);              // [0, c]: (2*2 - 3) c / (2 c)
  EXPECT_NEAR(b.top_share, 171.0 / 287, kTol);  // (76/145) / (76/145 + 16/45)
  EXPECT_NEAR(b.gini, 55.0 / 574, kTol);        // (-16/45 + 76/145) / (2 * (76/145 + 16/45))
  EXPECT_NEAR(b.top_bottom.top_mean, 574.0 / 1305, kTol);  // both heads are the top 10 and the bottom 50
  EXPECT_NEAR(b.top_bottom.bottom_mean, 574.0 / 1305, kTol);
  EXPECT_EQ(a.sorted_composites.size(), 2u);
  EXPECT_EQ(a.ranking.front().head, 1);
  // Per layer.
  ASSERT_EQ(a.layers.size(), 1u);
  EXPECT_NEAR(a.layers[0].mean_composite, 13.0 / 30, kTol);
  EXPECT_NEAR(a.layers[0].max_composite, 13.0 / 15, kTol);
  EXPECT_EQ(a.layers[0].heads_over_threshold, 1);
  // The matrix averaged over heads.
  const std::vector<float> mean_a = {0.75f, 0, 0, 0.5f, 0.25f, 0, 0.5f, 0, 0.25f};
  ASSERT_EQ(a.mean_matrix.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_NEAR(a.mean_matrix[i], mean_a[i], kTol) << i;
}

TEST(FlowComparison, JointNormalisationPutsBothRunsOnOneScale) {
  const auto c = hand_comparison(analysis::ComparisonNormalization::joint);
  EXPECT_NEAR(c.a.scores.at(0, 1).composite, 13.0 / 15, kTol);  // A holds both extremes: unchanged
  EXPECT_NEAR(c.b.scores.at(0, 0).composite, 26399.0 / 65250, kTol);
  EXPECT_NEAR(c.b.scores.at(0, 1).composite, 13.0 / 30, kTol);
  EXPECT_EQ(c.b.ranking.front().head, 1);  // on one scale B1 overtakes B0
  EXPECT_DOUBLE_EQ(c.a.scores.normalization.hub_max, c.b.scores.normalization.hub_max);
  EXPECT_NEAR(c.b.scores.normalization.skip_min, 1.0 / 6, kTol);
}

TEST(FlowComparison, ThresholdIsStrictAndConfigurable) {
  const auto a = run("A", 3, {{"p0", ""}}), b = run("B", 3, {{"p0", ""}});
  analysis::FlowComparisonOptions options;
  options.composite_threshold = 76.0 / 145 - 1e-4;
  const auto c = analysis::compare_flow(analysis::plan_flow_comparison(a, b), a, test::comparison_matrices_a(), b,
                                        test::comparison_matrices_b(), options);
  EXPECT_EQ(c.b.heads_over_threshold, 1);
  EXPECT_EQ(c.b.hub_counts_over_threshold, (std::vector<int>{0, 1, 0}));
}

TEST(FlowComparison, GiniCoefficient) {
  EXPECT_NEAR(analysis::gini_coefficient({0, 0, 0, 1}), 0.75, kTol);
  EXPECT_NEAR(analysis::gini_coefficient({1, 1, 1, 1}), 0.0, kTol);
  EXPECT_NEAR(analysis::gini_coefficient({3, 1, 2}), 2.0 / 9, kTol);  // (-1*1 + 0*2 + 1*3) / (3 * 6)
  EXPECT_NEAR(analysis::gini_coefficient({1, std::nan(""), 3, 2}), 2.0 / 9, kTol);
  EXPECT_TRUE(std::isnan(analysis::gini_coefficient({})));
  EXPECT_TRUE(std::isnan(analysis::gini_coefficient({0, 0})));
}

TEST(FlowComparisonPlan, PairsPromptsByIdInTheFirstRunsOrder) {
  const auto a = run("A", 3, {{"p0", "one"}, {"p1", "two"}, {"p2", "three"}, {"p3", "four"}});
  const auto b = run("B", 3, {{"p2", "three"}, {"p0", "one"}, {"p1", "two"}});
  const auto plan = analysis::plan_flow_comparison(a, b);
  EXPECT_TRUE(plan.error.empty()) << plan.error;
  EXPECT_EQ(plan.samples_a, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(plan.samples_b, (std::vector<std::int64_t>{1, 2, 0}));
  EXPECT_EQ(plan.only_a, 1);
  EXPECT_EQ(plan.only_b, 0);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("compared on the 3 prompts both runs have (A has 1 more, B 0)"), std::string::npos) << plan.notes[0];
}

TEST(FlowComparisonPlan, MismatchesSayWhyInWords) {
  const auto a = run("A", 3, {{"p0", "one"}, {"p1", "two"}});
  auto plan = analysis::plan_flow_comparison(a, run("B", 3, {{"p0", "one"}, {"p1", "TWO"}}));
  EXPECT_NE(plan.error.find("different prompt sets: sample 'p1' reads \"two\" in A but \"TWO\" in B (1 of the shared ids differ)"),
            std::string::npos) << plan.error;
  plan = analysis::plan_flow_comparison(a, run("B", 4, {{"p0", "one"}}));
  EXPECT_NE(plan.error.find("the flow matrices differ in size: A has 3x3, B 4x4; capture both with the same --flow-size"),
            std::string::npos) << plan.error;
  plan = analysis::plan_flow_comparison(a, run("B", 0, {{"p0", "one"}}));
  EXPECT_NE(plan.error.find("B has no flow matrices"), std::string::npos) << plan.error;
  plan = analysis::plan_flow_comparison(a, run("B", 3, {{"q0", "other"}}));
  EXPECT_NE(plan.error.find("the runs share no prompt"), std::string::npos) << plan.error;
  plan = analysis::plan_flow_comparison(a, run("B", 3, {}));
  EXPECT_NE(plan.error.find("B has no samples yet"), std::string::npos) << plan.error;
  EXPECT_THROW(analysis::compare_flow(plan, a, {}, a, {}), analysis::ComparisonError);
}

TEST(FlowComparisonPlan, NotesDifferentFlowPositionsAndPairsUnnamedSamplesByIndex) {
  const auto a = run("A", 3, {{"p0", "one"}});
  const auto b = run("B", 3, {{"p0", "one"}}, R"({"flow_select":"marker","mode":"teacher_forced"})");
  const auto plan = analysis::plan_flow_comparison(a, b);
  ASSERT_TRUE(plan.error.empty());
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("chosen differently (A: last_k, B: marker)"), std::string::npos) << plan.notes[0];
  const auto unnamed = analysis::plan_flow_comparison(run("A", 3, {{"", ""}, {"", ""}, {"", ""}}), run("B", 3, {{"", ""}, {"", ""}}));
  EXPECT_TRUE(unnamed.paired_by_index);
  EXPECT_EQ(unnamed.samples_a, (std::vector<std::int64_t>{0, 1}));
}

TEST(FlowComparison, StoresAreComparedOnTheirCommonPrompts) {
  const auto dir = test::temp_dir();
  const std::string path_a = (dir / "a.h5").string(), path_b = (dir / "b.h5").string();
  test::write_comparison_store(path_a, "model-a", test::comparison_matrices_a(), /*extra=*/true);
  test::write_comparison_store(path_b, "model-b", test::comparison_matrices_b());
  auto reader_a = store::StoreReader::open(path_a);
  auto reader_b = store::StoreReader::open(path_b);
  const auto c = analysis::compare_stores(*reader_a, *reader_b);
  EXPECT_EQ(c.a.label, "model-a");
  EXPECT_EQ(c.a.sample_count, 2);  // p2 is only in A: left out, so its odd flow does not count
  EXPECT_EQ(c.plan.only_a, 1);
  EXPECT_NEAR(c.a.scores.at(0, 1).composite, 13.0 / 15, kTol);
  EXPECT_NEAR(c.b.scores.at(0, 0).composite, 76.0 / 145, kTol);
  const std::string text = analysis::format_flow_comparison(c);
  EXPECT_NE(text.find("heads over composite 0.60"), std::string::npos) << text;
  EXPECT_NE(text.find("1 (50%)"), std::string::npos) << text;
  EXPECT_NE(text.find("note: compared on the 2 prompts both runs have"), std::string::npos) << text;

  // The same model twice: the sides are told apart by file name.
  const auto same = analysis::compare_stores(*reader_a, *reader_a);
  EXPECT_EQ(same.a.label, "A a.h5");

  const std::string path_k4 = (dir / "k4.h5").string();
  test::write_comparison_store(path_k4, "model-k4", test::comparison_matrices_b(), false, 4);
  auto reader_k4 = store::StoreReader::open(path_k4);
  try {
    analysis::compare_stores(*reader_a, *reader_k4);
    FAIL() << "expected a ComparisonError";
  } catch (const analysis::ComparisonError& e) {
    EXPECT_NE(std::string(e.what()).find("differ in size"), std::string::npos) << e.what();
  }
}
