// `headscope analyze` on a store with planted structure: heartbeats counted on IAF over generated steps
// only, the calibration table by level, flow rankings from the averaged matrices, and a head whose
// windowed-JSD peaks sit on the recorded step starts ranked first for boundaries.
#include <cmath>

#include "core/analysis/store_analysis.h"
#include "core/store/h5.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "planted_store_data.h"
#include "test_support.h"

using namespace headscope;


TEST(StoreAnalysis, PlantedHeartbeatsFlowAndBoundaries) {
  const auto path = (test::temp_dir() / "planted.h5").string();
  {
    auto writer = store::StoreWriter::create(path, test::planted_layout(), {});
    int index = 0;
    for (int level = 1; level <= 3; ++level)
      for (int copy = 0; copy < 2; ++copy) writer->append(test::planted_sample(index++, level));
  }
  analysis::StoreAnalysisOptions options;
  options.telegraph_heads = 1;
  auto reader = store::StoreReader::open(path);
  const auto result = analysis::analyze_store(*reader, options);
  ASSERT_TRUE(result.has_generation);
  EXPECT_EQ(result.telegraph_ranking.front().layer, 1);
  EXPECT_EQ(result.telegraph_ranking.front().head, 0);
  ASSERT_EQ(result.calibration.size(), 3u);
  for (int level = 1; level <= 3; ++level) {
    EXPECT_EQ(result.calibration[level - 1].key, level);
    EXPECT_DOUBLE_EQ(result.calibration[level - 1].mean, level);  // one heartbeat per planted pulse
    EXPECT_EQ(result.calibration[level - 1].count, 2);
  }
  // Counts are consistent with the traces: every other head stays high, so no heartbeats.
  for (int i = 0; i < result.sample_count; ++i)
    for (int head = 0; head < 4; ++head)
      if (head != 2) {
        EXPECT_EQ(result.heartbeat_counts[i * 4 + head], 0);
      }
  ASSERT_TRUE(result.has_flow);
  EXPECT_EQ(result.composite_ranking.front().layer, 1);
  EXPECT_EQ(result.composite_ranking.front().head, 1);
  EXPECT_EQ(result.flow_checks.upper_triangle_violations, 0);
  ASSERT_TRUE(result.has_boundaries);
  EXPECT_EQ(result.boundary_ranking.front().layer, 0);
  EXPECT_EQ(result.boundary_ranking.front().head, 1);
  EXPECT_DOUBLE_EQ(result.best_head_boundaries.recall, 1.0);
  reader.reset();
  analysis::write_store_analysis(path, result, options);
  analysis::write_store_analysis(path, result, options);  // rerunning replaces, never duplicates
  auto again = store::StoreReader::open(path);  // still a valid store
  EXPECT_EQ(again->sample_count(), 6);
  again.reset();
  h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  EXPECT_TRUE(h5::link_exists(file, "/analysis/heartbeats/calibration_mean"));
  EXPECT_TRUE(h5::link_exists(file, "/analysis/flow/composite"));
  EXPECT_TRUE(h5::link_exists(file, "/analysis/boundaries/f1"));
  EXPECT_NE(analysis::format_store_analysis(result).find("calibration"), std::string::npos);
}
