// The CODI seed's analysis through the commands, on the hand-worked runs of comparison_test_data.h (K = 3,
// one layer of two heads): `analyze` stores sequential flow, functional types, row maxima and the phase
// criteria in /analysis/flow (read back, not parsed from the output); `compare` sets both models' seed
// figures side by side.
#include <cmath>

#include "../core/comparison_test_data.h"
#include "cli_support.h"
#include "core/store/analysis_group.h"

using namespace headscope;

// B0 = [[1,0,0],[0,1,0],[0,.9,0]]: sequential 0.9 / 2.9; B1 = causal uniform: (1/2 + 1/3) / 3. Per-run
// min-max: B0 is the run's maximum of hub and sequential (hub first), B1 of flow and skip (flow first).
// Row maxima: 1, 1, .9 and 1, .5, 1/3: five of six above 0.4. Two heads: top 1 / bottom 1.
TEST(CliFlowSeed, AnalyzeStoresTheSeedsAnalysis) {
  const auto path = (test::temp_dir() / "b.h5").string();
  test::write_comparison_store(path, "model-b", test::comparison_matrices_b());
  const auto result = test::run_headscope("analyze " + path);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const store::AnalysisGroup stored = store::read_analysis_group(path);
  ASSERT_TRUE(stored.flow.present);
  const auto& f = stored.flow;
  ASSERT_EQ(f.sequential.size(), 2u);
  EXPECT_NEAR(f.sequential[0], 9.0 / 29, 1e-6);
  EXPECT_NEAR(f.sequential[1], 5.0 / 18, 1e-6);
  EXPECT_EQ(f.functional_type, (std::vector<std::int32_t>{1, 0}));  // hub, flow
  EXPECT_EQ(f.functional_types, "0 flow, 1 hub, 2 skip, 3 sequential");
  const std::vector<double> row_max = {1, 1, 0.9, 1, 0.5, 1.0 / 3};
  ASSERT_EQ(f.row_max.size(), row_max.size());
  for (std::size_t i = 0; i < row_max.size(); ++i) EXPECT_NEAR(f.row_max[i], row_max[i], 1e-6) << i;
  ASSERT_EQ(f.criteria.size(), 7u);
  EXPECT_EQ(f.criterion_phase, (std::vector<std::int32_t>{1, 1, 1, 1, 2, 2, 2}));
  EXPECT_NEAR(f.criterion_value[0], 5.0 / 6, 1e-9);  // row maxima > 0.4
  EXPECT_EQ(f.criterion_passed[0], 1);
  EXPECT_NEAR(f.criterion_value[5], (76.0 / 145) / (16.0 / 45), 1e-6);  // top 1 / bottom 1: not 2x
  EXPECT_EQ(f.criterion_passed[5], 0);
  EXPECT_EQ(f.criterion_value[6], 1.0);  // the top head alone: one type
  EXPECT_EQ(f.criterion_passed[6], 0);
  EXPECT_NE(f.top_bottom.find("top 1 / bottom 1 of 2"), std::string::npos) << f.top_bottom;
  // A second run replaces the arrays and the store still reads.
  ASSERT_EQ(test::run_headscope("analyze " + path).exit_code, 0);
  EXPECT_EQ(store::read_analysis_group(path).flow.criteria.size(), 7u);
}

// A: A0 = diag(.5), A1 = every row to 0 (sequential 0 and 1/3; both heads flow-typed: A1 tops every
// score, A0 none). B as above. Types: A flow 2 (top 1: flow); B flow 1, hub 1 (top 1: hub, B0).
TEST(CliFlowSeed, CompareSetsTheSeedsFiguresSideBySide) {
  const auto dir = test::temp_dir();
  const std::string a = (dir / "a.h5").string(), b = (dir / "b.h5").string();
  test::write_comparison_store(a, "model-a", test::comparison_matrices_a());
  test::write_comparison_store(b, "model-b", test::comparison_matrices_b());
  const auto result = test::run_headscope("compare " + a + " " + b);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  auto line = [&](const std::string& label) {
    const auto at = out.find("  " + label);
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  const std::string mean_sequential = line("mean sequential flow");
  EXPECT_LT(mean_sequential.find("0.167"), mean_sequential.find("0.294")) << out;
  const std::string top_sequential = line("top sequential flow");
  EXPECT_LT(top_sequential.find("0.333 L0H1"), top_sequential.find("0.310 L0H0")) << out;
  const std::string groups = line("criterion top / bottom groups");
  EXPECT_NE(groups.find("top 1 / bottom 1"), std::string::npos) << out;
  const std::string flow_types = line("flow ");
  EXPECT_LT(flow_types.find("2 (100%) / 1"), flow_types.find("1 (50%) / 0")) << out;
  const std::string hub_types = line("hub ");
  EXPECT_LT(hub_types.find("0 (0%) / 0"), hub_types.find("1 (50%) / 1")) << out;
  const std::string sharp_rows = line("phase 1 sharp_rows");
  EXPECT_LT(sharp_rows.find("pass 1.000"), sharp_rows.find("pass 0.833")) << out;
  const std::string mean_std = line("phase 1 mean_std");  // the samples are 1.5x and 0.5x the mean: std 0.5x
  EXPECT_LT(mean_std.find("pass 0.125"), mean_std.find("pass 0.164")) << out;
  const std::string type_span = line("phase 2 type_span");
  EXPECT_NE(type_span.find("fail 1.000"), std::string::npos) << out;
}
