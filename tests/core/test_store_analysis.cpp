// `headscope analyze` on a store with planted structure: heartbeats counted on IAF over generated steps
// only, the calibration table by level, flow rankings from the averaged matrices, and a head whose
// windowed-JSD peaks sit on the recorded step starts ranked first for boundaries.
#include <cmath>

#include "core/analysis/store_analysis.h"
#include "core/store/h5.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "test_support.h"

using namespace headscope;

namespace {

// Level l: the planted head L1H0 pulses l times in its IAF after the prompt; L0H1's windowed JSD peaks at
// each recorded step start. Flow: L1H1 passes everything to the first position.
store::SampleRecord planted_sample(int index, int level) {
  const int prompt = 10, generated = 12 * level + 18, n = prompt + generated;
  store::SampleRecord s;
  s.id = "s" + std::to_string(index);
  std::string spans = "[";
  std::vector<int> starts;
  for (int step = 0; step < level + 1; ++step) {
    starts.push_back(prompt + 6 + 12 * step);
    spans += (step ? "," : "") + std::string("[") + std::to_string(starts.back()) + "," + std::to_string(starts.back() + 10) + ",\"add\"]";
  }
  s.metadata_json = "{\"level\":" + std::to_string(level) + ",\"capture\":{\"span_tokens\":" + spans + "]}}";
  s.prompt_length = prompt;
  for (int t = 0; t < n; ++t) s.tokens.push_back(t);
  const int L = 2, H = 2;
  const auto metrics = store::standard_metrics();
  s.metrics.assign(metrics.size(), std::vector<float>(static_cast<std::size_t>(n) * L * H, 0.2f));
  auto at = [&](int t, int layer, int head) { return static_cast<std::size_t>((t * L + layer) * H + head); };
  const int iaf = 4, windowed = 6;
  for (int t = 0; t < n; ++t)
    for (int j = 0; j < L * H; ++j) {
      s.metrics[iaf][t * L * H + j] = t < prompt ? std::nanf("") : 0.9f;  // high: no heartbeats by default
      s.metrics[windowed][t * L * H + j] = 0.01f * static_cast<float>((t * 7 + j) % 5);
    }
  for (int pulse = 0; pulse < level; ++pulse)
    for (int t = prompt + 6 + 12 * pulse; t < prompt + 12 + 12 * pulse; ++t) s.metrics[iaf][at(t, 1, 0)] = 0.05f;
  for (int start : starts) s.metrics[windowed][at(start, 0, 1)] = 0.6f;
  const int K = 3;
  for (int p = 0; p < K; ++p) s.flow_positions.push_back(n - K + p);
  s.flow.assign(static_cast<std::size_t>(L * H * K * K), 0.0f);
  for (int head = 0; head < L * H; ++head)
    for (int i = 0; i < K; ++i) s.flow[(head * K + i) * K + i] = 0.5f;  // attend to self
  for (int i = 0; i < K; ++i) s.flow[((1 * H + 1) * K + i) * K + 0] += 0.4f;  // L1H1 sends mass to position 0
  return s;
}

}  // namespace

TEST(StoreAnalysis, PlantedHeartbeatsFlowAndBoundaries) {
  const auto path = (test::temp_dir() / "planted.h5").string();
  store::StoreLayout layout;
  layout.layer_count = 2;
  layout.head_count = 2;
  layout.metrics = store::standard_metrics();
  layout.flow_size = 3;
  layout.metric_type = store::ValueType::float32;
  {
    auto writer = store::StoreWriter::create(path, layout, {});
    int index = 0;
    for (int level = 1; level <= 3; ++level)
      for (int copy = 0; copy < 2; ++copy) writer->append(planted_sample(index++, level));
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
