// Small sweep and IB result files with every field set, for the round trips (test_result_files.cpp) and
// the corruption suite (test_store_corruption.cpp).
#pragma once
#include <string>

#include "core/store/ib_file.h"
#include "core/store/sweep_file.h"

namespace headscope::test {

inline store::SweepFile small_sweep() {
  using namespace store;
  SweepFile s;
  s.command_line = "headscope sweep --target 1:2";
  s.model_name = "tiny";
  s.model_config_json = R"({"model_type":"gpt2"})";
  s.intervention = "query_scale";
  s.target = "L1H2";
  s.expected_directions = {"entropy: down", "max_attention: up", "k90: down"};
  s.sample_count = 4;
  s.token_count = 80;
  s.baseline_loss = 2.5;
  s.scales = {0.5, 1.0, 1.5};
  s.condition_names = {"scale 0.5", "scale 1", "scale 1.5"};
  s.heads = {{1, 2}, {0, 1}};
  s.head_names = {"L1H2", "L0H1"};
  s.roles = {"target", "control"};
  for (int m = 0; m < kSweepMetricCount; ++m)
    for (int cell = 0; cell < 6; ++cell) {
      s.mean[m].push_back(m + 0.1 * cell);
      s.spread_std[m].push_back(0.01 * cell);
      s.count[m].push_back(80);
      if (cell < 2) {
        s.baseline_mean[m].push_back(m + 0.5);
        s.baseline_std[m].push_back(0.2);
        s.baseline_count[m].push_back(80);
      }
    }
  s.loss = {2.6, 2.7, 2.5, 2.5, 2.4, 2.5};
  s.loss_delta = {0.1, 0.2, 0, 0, -0.1, 0};
  s.gain = {0.3, 0.01};
  s.gain_se = {0.02, 0.01};
  s.gain_r_squared = {0.99, 0.2};
  s.gain_intercept = {0.4, 0.5};
  s.gain_fitted = {1, 1};
  s.gain_notes = {"", ""};
  for (auto& trend : s.trends) trend = {"increasing", "not monotonic"};
  s.ratio = {30};
  s.verdicts = {"strong evidence"};
  s.ratio_versus_mean_control = 30;
  s.verdict_versus_mean_control = "strong evidence";
  s.sanity = {true, true, true, 0, 1e-5, "identical"};
  s.isolation = {true, true, false, 1e-7, 1e-5, "only the target changed"};
  s.complete = false;
  s.condition_done = {1, 1, 0};
  return s;
}

// An IB run of 3 steps in 2 clusters whose steps came from the store at `source_store`.
inline store::IbFile small_ib(const std::string& source_store) {
  using namespace store;
  IbFile f;
  f.command_line = "headscope ib --store run.h5";
  f.input = "run.h5 (step embeddings)";
  f.settings_json = R"({"beta_max": 100})";
  f.info_xy = 0.7;
  f.split_gain_floor = 0.01;
  f.label_names = {"add", "mul"};
  f.step_label = {0, 1, 1};
  f.step_cell = {0, 1, 2};
  f.step_cluster = {0, 1, 1};
  f.step_membership = {0.9, 0.8, 0.95};
  f.history = {{0, 2.0, 1.8, 0.5, 0.4, 0.3, 2, 0, 1, 1, 2, 17}};
  f.curve_beta = {1, 2};
  f.curve_info_xt = {0.1, 0.5};
  f.curve_info_ty = {0.05, 0.4};
  f.curve_cluster_entropy = {0, 0.6};
  f.curve_clusters = {1, 2};
  f.curve_converged = {1, 1};
  f.curve_iterations = {3, 9};
  f.merge_kept = {0};
  f.merge_absorbed = {1};
  f.merge_cost = {0.4};
  f.merge_cost_fraction = {1};
  f.merge_info_ty_after = {0};
  f.merge_clusters_after = {1};
  f.elbow_threshold = {0.3, 0.1};
  f.elbow_clusters_nats = {2, 2};
  f.elbow_clusters_fraction = {2, 2};
  f.clusters = {{0, -1, 0, 0.33, 1, {1, 0}, {1, 0}, {0}}, {1, 0, 1, 0.67, 2, {0, 1}, {0, 2}, {2, 1}}};
  f.has_source = true;
  f.source_store_path = source_store;
  f.source_store_created = "2026-01-01T00:00:00Z";
  f.source_steps = {{0, 0, 1}, {0, 4, 0}, {4, 9, 5}};
  return f;
}

}  // namespace headscope::test
