// Intervention sweeps on the hf-reference models (GQA llama: 4 query heads on 2 kv heads): the sweep's
// scale-1.0 statistics equal a plain capture's metrics for the same prompts; the baseline-sanity and
// isolation checks pass on a correct run and fail when an extra intervention breaks isolation on purpose;
// query scaling moves the target's max attention in the expected direction; key scaling and ablation stay
// isolated under GQA; the gain scan agrees with the sweep; bad input is a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"
#include "capture/model/weights_torch.h"
#include "capture/session/capture_session.h"
#include "capture/sweep/sweep.h"
#include "core/io/npz.h"
#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace hc = headscope::capture;
namespace hs = headscope::store;
namespace hw = headscope::sweep;
namespace ha = headscope::analysis;
namespace fs = std::filesystem;

namespace {

fs::path model_dir(const std::string& name) { return headscope::test::fixtures_dir() / "hf-reference" / name; }

// Two prompts of 20 token ids from the fixture's reference inputs (the fixtures have no tokenizer).
std::string write_prompts(const fs::path& dir, const std::string& model) {
  hm::SafetensorsFile file(model_dir(model) / "reference.safetensors");
  at::Tensor ids = hm::tensor_from_safetensors(file, file.info("input_ids")).to(at::kLong);
  const auto path = (dir / "prompts.jsonl").string();
  std::ofstream out(path);
  for (int row = 0; row < 2; ++row) {
    out << "{\"id\": \"p" << row << "\", \"ids\": [";
    for (int t = 0; t < 20; ++t) out << (t ? "," : "") << ids[row][t].item<std::int64_t>();
    out << "]}\n";
  }
  return path;
}

hw::SweepSettings base_settings(const std::string& model, const std::string& prompts) {
  hw::SweepSettings s;
  s.run.model_dir = model_dir(model).string();
  s.run.threads = 2;
  s.samples.prompts_path = prompts;
  s.target = {1, 2};
  s.controls = {{1, 0}, {0, 3}};
  return s;
}

std::size_t condition_of(const hw::SweepResult& r, double scale) {
  for (std::size_t c = 0; c < r.scales.size(); ++c)
    if (r.scales[c] == scale) return c;
  ADD_FAILURE() << "no scale " << scale;
  return 0;
}

}  // namespace

// Scale 1.0 (and the baseline) equal the capture's stored metrics, pooled over tokens and samples.
TEST(Sweep, ScaleOneEqualsPlainCapture) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = write_prompts(dir, "llama");
  hc::CaptureSettings capture;
  capture.model_dir = model_dir("llama").string();
  capture.prompts_path = prompts;
  capture.out_path = (dir / "capture.h5").string();
  capture.float32_metrics = true;
  capture.threads = 2;
  hc::CaptureSession session(capture);
  session.start();
  session.wait();
  auto reader = hs::StoreReader::open(capture.out_path);

  const auto result = hw::run_sweep(base_settings("llama", prompts));
  const std::size_t one = condition_of(result, 1.0);
  for (std::size_t h = 0; h < result.heads.size(); ++h) {
    for (int m = 0; m < hw::kSweepMetricCount; ++m) {
      double sum = 0, squares = 0;
      std::int64_t n = 0;
      for (std::int64_t sample = 0; sample < reader->sample_count(); ++sample)
        for (float value : reader->head_trace(hw::sweep_metric_name(m), sample, result.heads[h])) {
          sum += value;
          squares += double{value} * value;
          ++n;
        }
      const double mean = sum / n, std = std::sqrt((squares - n * mean * mean) / (n - 1));
      const std::string where = hs::head_name(result.heads[h]) + " " + hw::sweep_metric_name(m);
      const auto& at_one = result.conditions_by_head[one][h].metrics[m];
      EXPECT_EQ(at_one.n, n) << where;
      EXPECT_NEAR(at_one.mean, mean, 1e-9 * std::max(1.0, std::abs(mean))) << where;
      EXPECT_NEAR(at_one.std, std, 1e-7 * std::max(1.0, std)) << where;
      EXPECT_EQ(result.baseline[h].metrics[m].mean, at_one.mean) << where << ": baseline vs scale 1.0";
    }
    EXPECT_EQ(result.conditions_by_head[one][h].loss_delta, 0.0);
  }
}

// A correct run passes both checks, bitwise; query scaling sharpens the target as theory says (a query
// scale is an inverse temperature on that head's scores, so these trends must hold on any head).
TEST(Sweep, ChecksPassAndQueryScalingSharpens) {
  const auto dir = headscope::test::temp_dir();
  const auto result = hw::run_sweep(base_settings("llama", write_prompts(dir, "llama")));
  EXPECT_TRUE(result.sanity.passed) << result.sanity.detail;
  EXPECT_TRUE(result.sanity.bitwise) << result.sanity.detail;
  EXPECT_TRUE(result.isolation.passed) << result.isolation.detail;
  EXPECT_TRUE(result.isolation.bitwise) << result.isolation.detail;
  for (std::size_t h = 0; h < result.heads.size(); ++h) {
    const auto& gain = result.gains[h];
    ASSERT_TRUE(gain.fitted) << gain.note;
    EXPECT_GT(gain.fit.slope, 0) << hs::head_name(result.heads[h]);
    EXPECT_EQ(gain.trends[1], ha::Trend::increasing) << hs::head_name(result.heads[h]) << " max_attention";
    EXPECT_EQ(gain.trends[0], ha::Trend::decreasing) << hs::head_name(result.heads[h]) << " entropy";
  }
  ASSERT_EQ(result.comparisons.size(), 2u);
  EXPECT_NEAR(result.comparisons[0].ratio, result.gains[0].fit.slope / result.gains[1].fit.slope, 1e-12);
  const auto report = hw::format_sweep_report(result);
  EXPECT_NE(report.find("isolation: PASS"), std::string::npos) << report;

  // The file: kind sweep, the /sweep arrays, and inspect summarises it.
  const auto path = (dir / "sweep.h5").string();
  hw::write_sweep_file(path, result, "headscope sweep (test)", false);
  const auto summary = hs::inspect_json(path);
  EXPECT_EQ(summary["kind"], "sweep");
  std::set<std::string> datasets;
  for (const auto& d : summary["datasets"]) datasets.insert(d["path"].get<std::string>());
  for (const char* name : {"/sweep/scales", "/sweep/heads", "/sweep/max_attention_mean", "/sweep/k90_std", "/sweep/entropy_n",
                           "/sweep/loss_delta", "/sweep/gain", "/sweep/gain_se", "/sweep/ratio", "/model/config_json"})
    EXPECT_TRUE(datasets.count(name)) << name;
  EXPECT_NE(hs::inspect_text(path).find("/sweep/gain"), std::string::npos);
  EXPECT_THROW(hw::write_sweep_file(path, result, "again", false), hs::StoreError);
}

// An extra intervention on another head of the same layer, or on an earlier layer, must fail isolation
// (and sanity, since the identity run is no longer the identity).
TEST(Sweep, IsolationCheckCatchesABrokenIntervention) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = write_prompts(dir, "llama");
  auto same_layer = base_settings("llama", prompts);
  same_layer.controls = {};
  same_layer.extra_interventions = {hm::HeadIntervention{1, 3, 1.3}};
  auto result = hw::run_sweep(same_layer);
  EXPECT_FALSE(result.isolation.passed);
  EXPECT_NE(result.isolation.detail.find("q_pre of head 3"), std::string::npos) << result.isolation.detail;
  EXPECT_FALSE(result.sanity.passed) << result.sanity.detail;

  auto earlier_layer = same_layer;
  earlier_layer.extra_interventions = {hm::HeadIntervention{0, 1, 1.3}};
  result = hw::run_sweep(earlier_layer);
  EXPECT_FALSE(result.isolation.passed);
  EXPECT_NE(result.isolation.detail.find("k_pre of kv head"), std::string::npos) << result.isolation.detail;
}

// Key scaling touches only the target's scores even though its kv head is shared (GQA); zero ablation
// leaves the head's own attention alone and changes only its output and the loss.
TEST(Sweep, KeyScaleAndAblationStayIsolatedUnderGqa) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = write_prompts(dir, "llama");
  auto key = base_settings("llama", prompts);
  key.kind = hw::SweepKind::key_scale;
  auto result = hw::run_sweep(key);
  EXPECT_TRUE(result.isolation.passed) << result.isolation.detail;
  EXPECT_TRUE(result.sanity.passed) << result.sanity.detail;
  EXPECT_EQ(result.gains[0].trends[1], ha::Trend::increasing);

  auto ablate = base_settings("llama", prompts);
  ablate.kind = hw::SweepKind::ablate_zero;
  result = hw::run_sweep(ablate);
  EXPECT_TRUE(result.isolation.passed) << result.isolation.detail;
  EXPECT_TRUE(result.sanity.passed) << result.sanity.detail;
  ASSERT_EQ(result.conditions_by_head.size(), 1u);
  EXPECT_EQ(result.conditions_by_head[0][0].metrics[1].mean, result.baseline[0].metrics[1].mean);
  EXPECT_NE(result.conditions_by_head[0][0].loss_delta, 0.0);
  EXPECT_FALSE(result.gains[0].fitted);

  auto mean = base_settings("llama", prompts);
  mean.kind = hw::SweepKind::ablate_mean;
  result = hw::run_sweep(mean);
  EXPECT_TRUE(result.isolation.passed) << result.isolation.detail;
}

// Scaling a whole layer at once gives each head the gain it has when scaled alone.
TEST(Sweep, GainScanAgreesWithTheSweep) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = write_prompts(dir, "gpt2");
  auto sweep = base_settings("gpt2", prompts);
  const auto result = hw::run_sweep(sweep);
  hw::GainScanSettings scan;
  scan.run = sweep.run;
  scan.samples = sweep.samples;
  scan.layer = 1;
  scan.controls_per_head = 2;
  const auto table = hw::run_gain_scan(scan);
  ASSERT_EQ(table.rows.size(), 4u);
  for (std::size_t i = 1; i < table.rows.size(); ++i) EXPECT_GE(table.rows[i - 1].fit.slope, table.rows[i].fit.slope);
  for (const auto& row : table.rows) {
    EXPECT_EQ(row.controls.size(), 2u);
    for (std::size_t h = 0; h < result.heads.size(); ++h)
      if (result.heads[h] == row.head) {
        EXPECT_NEAR(row.fit.slope, result.gains[h].fit.slope, 1e-9);
      }
  }
  EXPECT_EQ(hw::run_gain_scan(scan).rows[0].controls, table.rows[0].controls) << "seeded";
  const auto path = (dir / "scan.h5").string();
  hw::write_gain_scan_file(path, table, "headscope gain-scan (test)", false);
  EXPECT_EQ(hs::inspect_json(path)["kind"], "sweep");
}

// An .npz token shard ([sample, token] int32) gives the same sweep as the same ids in a prompt set.
TEST(Sweep, TokenShardEqualsPromptSet) {
  const auto dir = headscope::test::temp_dir();
  std::vector<std::int32_t> tokens;
  std::ofstream prompts(dir / "same.jsonl");
  for (int row = 0; row < 2; ++row) {
    prompts << "{\"ids\": [";
    for (int t = 0; t < 16; ++t) {
      tokens.push_back((row * 37 + t * 11) % 250 + 3);
      prompts << (t ? "," : "") << tokens.back();
    }
    prompts << "]}\n";
  }
  prompts.close();
  const auto shard = (dir / "shard.npz").string();
  headscope::io::write_npz(shard, {{"tokens", headscope::io::npy_bytes("<i4", {2, 16}, tokens.data(), tokens.size() * 4)}}, true);
  auto from_prompts = base_settings("gpt2", (dir / "same.jsonl").string());
  auto from_shard = from_prompts;
  from_shard.samples.prompts_path.clear();
  from_shard.samples.shards_path = shard;
  const auto a = hw::run_sweep(from_prompts), b = hw::run_sweep(from_shard);
  EXPECT_EQ(b.sample_count, 2);
  for (std::size_t h = 0; h < a.heads.size(); ++h) EXPECT_EQ(a.gains[h].fit.slope, b.gains[h].fit.slope);
}

TEST(Sweep, BadInputIsAClearError) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = write_prompts(dir, "llama");
  auto expect_error = [](hw::SweepSettings s, const std::string& words) {
    try {
      hw::run_sweep(s);
      ADD_FAILURE() << "no error for: " << words;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  auto s = base_settings("llama", prompts);
  s.target = {1, 4};
  expect_error(s, "outside the model");
  s = base_settings("llama", prompts);
  s.controls = {{2, 0}};
  expect_error(s, "outside the model");
  s = base_settings("llama", prompts);
  s.scales = {0.5, 0.0, 1.0};
  expect_error(s, "must be finite numbers > 0");
  s = base_settings("llama", prompts);
  s.scales = {1.0};
  expect_error(s, "at least 2");
  s = base_settings("llama", prompts);
  s.controls = {{1, 2}};
  expect_error(s, "is the target");
  s = base_settings("llama", prompts);
  s.samples.prompts_path.clear();
  expect_error(s, "exactly one sample source");
  EXPECT_THROW(hw::parse_sweep_kind("louder"), std::invalid_argument);

  // The runtime itself refuses an intervention outside the model or with a scale <= 0.
  auto model = hm::Model::load(model_dir("llama"));
  const at::Tensor ids = at::arange(8, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
  for (const auto& edit : {hm::HeadIntervention{1, 4, 2.0}, hm::HeadIntervention{2, 0, 2.0}, hm::HeadIntervention{0, 0, 0.0},
                           hm::HeadIntervention{0, 0, 1.0, -1.0}}) {
    hm::Interventions list{{edit}};
    hm::ForwardOptions options;
    options.interventions = &list;
    EXPECT_THROW(model->forward(ids, nullptr, options), hm::ModelError);
  }
  hm::HeadIntervention wrong_mean{0, 0};
  wrong_mean.output = hm::OutputAblation::mean;
  wrong_mean.mean_output = {1.0f};
  hm::Interventions list{{wrong_mean}};
  hm::ForwardOptions options;
  options.interventions = &list;
  EXPECT_THROW(model->forward(ids, nullptr, options), hm::ModelError);
}
