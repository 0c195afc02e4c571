// Round trips of the small result files through their one writer and one reader in core/store: a sweep
// (sweep_file.h), an IB run (ib_file.h, and `inspect` on it) and a store's /analysis group
// (analysis_group.h). Every field written comes back as written.
#include <gtest/gtest.h>

#include <cmath>

#include "core/store/analysis_group.h"
#include "core/store/ib_file.h"
#include "core/store/inspect.h"
#include "core/store/sweep_file.h"
#include "core/store/writer.h"
#include "result_file_data.h"
#include "store_test_data.h"
#include "test_support.h"

using namespace headscope;
using namespace headscope::store;

TEST(ResultFiles, SweepRoundTrip) {
  const SweepFile s = test::small_sweep();
  const std::string path = (test::temp_dir() / "sweep.h5").string();
  write_sweep_file(path, s, false);
  EXPECT_THROW(write_sweep_file(path, s, false), StoreError);
  const auto back = read_sweep_file(path);
  EXPECT_EQ(back->command_line, s.command_line);
  EXPECT_EQ(back->model_config_json, s.model_config_json);
  EXPECT_EQ(back->heads, s.heads);
  EXPECT_EQ(back->head_names, s.head_names);
  EXPECT_EQ(back->condition_names, s.condition_names);
  for (int m = 0; m < kSweepMetricCount; ++m) {
    EXPECT_EQ(back->mean[m], s.mean[m]);
    EXPECT_EQ(back->count[m], s.count[m]);
    EXPECT_EQ(back->baseline_count[m], s.baseline_count[m]);
    EXPECT_EQ(back->trends[m], s.trends[m]);
  }
  EXPECT_EQ(back->loss, s.loss);
  EXPECT_EQ(back->gain_fitted, s.gain_fitted);
  EXPECT_EQ(back->verdicts, s.verdicts);
  EXPECT_TRUE(back->isolation.present && !back->isolation.bitwise);
  EXPECT_EQ(back->isolation.detail, s.isolation.detail);
  EXPECT_FALSE(back->complete);
  EXPECT_EQ(back->conditions_done(), 2u);
  EXPECT_FALSE(back->spread.empty());
}

TEST(ResultFiles, IbRoundTripAndInspect) {
  const IbFile f = test::small_ib((test::temp_dir() / "run.h5").string());
  const std::string path = (test::temp_dir() / "ib.h5").string();
  write_ib_file(path, f);
  const auto back = read_ib_file(path);
  EXPECT_EQ(back->label_names, f.label_names);
  EXPECT_EQ(back->step_cell, f.step_cell);
  ASSERT_EQ(back->history.size(), 1u);
  EXPECT_EQ(back->history[0].iterations, 17);
  EXPECT_DOUBLE_EQ(back->history[0].size_b, 2);
  EXPECT_EQ(back->curve_iterations, f.curve_iterations);
  EXPECT_EQ(back->curve_cluster_entropy, f.curve_cluster_entropy);
  EXPECT_EQ(back->merge_absorbed, f.merge_absorbed);
  ASSERT_EQ(back->clusters.size(), 2u);
  EXPECT_EQ(back->clusters[1].label_counts, f.clusters[1].label_counts);
  EXPECT_EQ(back->clusters[1].examples, f.clusters[1].examples);
  EXPECT_EQ(back->clusters[0].examples, f.clusters[0].examples);  // -1 padding dropped again
  EXPECT_EQ(back->source_steps.span_end, f.source_steps.span_end);
  EXPECT_EQ(back->source_store_path_relative, "run.h5");
  const std::string text = inspect_text(path);
  EXPECT_NE(text.find("ib           3 steps, 2 labels, 2 clusters"), std::string::npos) << text;
  EXPECT_NE(text.find("/ib/history/beta"), std::string::npos) << text;
}

TEST(ResultFiles, AnalysisGroupRoundTrip) {
  const std::string path = (test::temp_dir() / "store.h5").string();
  const StoreLayout layout = test::small_layout();
  {
    auto writer = StoreWriter::create(path, layout, Provenance{});
    writer->append(test::make_sample(layout, 0));
    writer->close();
  }
  AnalysisGroup a;
  a.sample_count = 1;
  a.layer_count = layout.layer_count;
  a.head_count = layout.head_count;
  a.heartbeats.present = true;
  a.heartbeats.definition = "debounced";
  a.heartbeats.threshold = 0.5;
  a.heartbeats.min_run = 5;
  a.heartbeats.telegraph_heads = 10;
  a.heartbeats.counts = {0, 1, 2, 3, -1, 5};
  a.heartbeats.telegraph_ranking = {{1, 0}, {0, 2}};
  a.heartbeats.telegraph_score = {0.9, 0.1};
  a.heartbeats.calibration_level = {1};
  a.heartbeats.calibration_mean = {2.5};
  a.heartbeats.calibration_std = {0.5};
  a.heartbeats.calibration_samples = {1};
  a.boundaries.present = true;
  a.boundaries.tolerance_tokens = 2;
  a.boundaries.peak_rule = "z=1";
  a.boundaries.f1 = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  write_analysis_group(path, a);
  const AnalysisGroup back = read_analysis_group(path);
  EXPECT_TRUE(back.heartbeats.present);
  EXPECT_EQ(back.sample_count, 1);
  EXPECT_EQ(back.heartbeats.counts, a.heartbeats.counts);
  EXPECT_EQ(back.heartbeats.telegraph_ranking, a.heartbeats.telegraph_ranking);
  EXPECT_EQ(back.heartbeats.definition, "debounced");
  EXPECT_FALSE(back.flow.present);
  EXPECT_EQ(back.boundaries.f1, a.boundaries.f1);
  EXPECT_EQ(back.boundaries.peak_rule, "z=1");
}
