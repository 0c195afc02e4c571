// Intervention sweeps on the hf-reference models (GQA llama: 4 query heads on 2 kv heads): the sweep's
// scale-1.0 statistics equal a plain capture's metrics for the same prompts; the baseline-sanity and
// isolation checks pass on a correct run and fail when an extra intervention breaks isolation on purpose;
// query scaling moves the target's max attention in the expected direction; key scaling and ablation stay
// isolated under GQA; the gain scan agrees with the sweep; bad input is a clear error; the file fills in
// one condition at a time (baseline and checks first) and a sweep that dies leaves what it finished; the
// workbench's way of running one — a child `headscope sweep` process — is watched while it fills in and
// stopped half-way.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "app/process/child_process.h"
#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"
#include "capture/model/weights_torch.h"
#include "capture/session/capture_session.h"
#include "capture/sweep/sweep.h"
#include "core/io/npz.h"
#include "core/store/h5.h"
#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "core/store/sweep_file.h"
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

// What a reader finds in a sweep file (raw HDF5, as any client would read it).
struct FileState {
  bool complete = false, has_checks = false;
  std::int64_t baseline_done = -1, conditions_done = -1;
  std::vector<double> condition_done, max_attention_mean, max_attention_n, gain, ratio, baseline_max_attention;
  std::string null_result;
};

std::vector<double> read_doubles(hid_t group, const std::string& name) {
  headscope::h5::Id dataset = headscope::h5::open_dataset(group, name, name);
  headscope::h5::Id space(H5Dget_space(dataset));
  std::vector<double> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  if (!values.empty()) H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  return values;
}

FileState read_file_state(const std::string& path) {
  namespace h5 = headscope::h5;
  h5::quiet_errors();
  h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (file.get() < 0) throw std::runtime_error(path + ": cannot open");
  FileState state;
  state.complete = h5::read_int_attribute(file, "complete", path) != 0;
  h5::Id sweep = h5::open_group(file, "/sweep", path);
  state.baseline_done = h5::read_int_attribute(sweep, "baseline_done", path);
  state.conditions_done = h5::read_int_attribute(sweep, "conditions_done", path);
  state.null_result = h5::read_string_attribute(sweep, "null_result", path);
  state.has_checks = h5::link_exists(sweep, "checks");
  state.condition_done = read_doubles(sweep, "condition_done");
  state.max_attention_mean = read_doubles(sweep, "max_attention_mean");
  state.max_attention_n = read_doubles(sweep, "max_attention_n");
  state.baseline_max_attention = read_doubles(sweep, "baseline_max_attention_mean");
  state.gain = read_doubles(sweep, "gain");
  state.ratio = read_doubles(sweep, "ratio");
  return state;
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

// Issue 19: the per-sample means pool back to the reported means, the across-sample intervals hold the
// gain (with 2 samples the fit is linear in the means, so the pooled gain lies between the two samples'),
// the flat-control test and the effects are filled, and all of it survives the file.
TEST(Sweep, IntervalsAcrossSamplesHoldTheGainAndRoundTrip) {
  const auto dir = headscope::test::temp_dir();
  auto settings = base_settings("llama", write_prompts(dir, "llama"));
  settings.bootstrap_resamples = 400;
  settings.seed = 3;
  const auto result = hw::run_sweep(settings);
  ASSERT_EQ(result.bootstrap.resamples, 400);
  for (std::size_t c = 0; c < result.conditions_by_head.size(); ++c)
    for (std::size_t h = 0; h < result.heads.size(); ++h) {
      const auto& cell = result.conditions_by_head[c][h];
      for (int m = 0; m < hw::kSweepMetricCount; ++m) {
        ASSERT_EQ(cell.sample_mean[m].size(), 2u);
        double sum = 0, n = 0;
        for (std::size_t s = 0; s < 2; ++s) sum += cell.sample_mean[m][s] * cell.sample_n[m][s], n += cell.sample_n[m][s];
        EXPECT_NEAR(sum / n, cell.metrics[m].mean, 1e-9);
      }
    }
  for (std::size_t h = 0; h < result.heads.size(); ++h) {
    const auto& interval = result.bootstrap.gain[h];
    EXPECT_LE(interval.low, result.gains[h].fit.slope + 1e-12) << hs::head_name(result.heads[h]);
    EXPECT_GE(interval.high, result.gains[h].fit.slope - 1e-12) << hs::head_name(result.heads[h]);
    EXPECT_GE(result.gains[h].moves_most, 0);
  }
  ASSERT_EQ(result.bootstrap.control_flat.size(), 2u);
  for (std::size_t c = 0; c < 2; ++c) EXPECT_EQ(result.bootstrap.control_flat[c], result.bootstrap.gain[c + 1].contains(0.0));
  const auto report = hw::format_sweep_report(result);
  EXPECT_NE(report.find("moves most"), std::string::npos) << report;

  const auto path = (dir / "sweep.h5").string();
  hw::write_sweep_file(path, result, "headscope sweep (test)", false);
  const auto file = hs::read_sweep_file(path);
  ASSERT_TRUE(file->has_intervals());
  EXPECT_EQ(file->bootstrap_resamples, 400);
  EXPECT_EQ(file->bootstrap_seed, 3);
  EXPECT_EQ(file->control_choice, "given");
  for (std::size_t h = 0; h < result.heads.size(); ++h) {
    EXPECT_EQ(file->gain_ci_low[h], result.bootstrap.gain[h].low);
    EXPECT_EQ(file->gain_ci_high[h], result.bootstrap.gain[h].high);
    EXPECT_EQ(file->moves_most[h], hw::sweep_metric_name(result.gains[h].moves_most));
  }
  EXPECT_EQ(file->ratio_ci_high[1], result.bootstrap.ratio[1].high);
  EXPECT_EQ(file->control_flat[0], result.bootstrap.control_flat[0]);
  EXPECT_EQ(file->ratio_versus_mean_control_ci_low, result.bootstrap.ratio_versus_mean_control.low);
  EXPECT_EQ(file->sample_mean[1].size(), result.scales.size() * 3 * 2);
  EXPECT_EQ(file->max_attention_ci_low.size(), result.scales.size() * 3);
}

// Without --controls the sweep draws them from the target's layer: at random with the seed (the same
// seed, the same heads), or matched on baseline entropy (the other heads closest to the target's).
TEST(Sweep, ControlsAreDrawnFromTheTargetsLayer) {
  const auto dir = headscope::test::temp_dir();
  auto settings = base_settings("llama", write_prompts(dir, "llama"));
  settings.scales = {0.5, 1.0, 1.5};
  settings.bootstrap_resamples = 0;
  settings.controls.clear();
  settings.draw = hw::ControlDraw::random;
  settings.control_count = 2;
  settings.seed = 9;
  const auto random = hw::run_sweep(settings);
  ASSERT_EQ(random.heads.size(), 3u);
  for (std::size_t h = 1; h < 3; ++h) {
    EXPECT_EQ(random.heads[h].layer, 1);
    EXPECT_NE(random.heads[h].head, 2);
  }
  EXPECT_NE(random.control_choice.find("seed 9"), std::string::npos) << random.control_choice;
  EXPECT_EQ(hw::run_sweep(settings).heads, random.heads) << "seeded";

  // Every other head of layer 1 as given controls shows their baseline entropies; matched picks the closest.
  auto all = settings;
  all.draw = hw::ControlDraw::given;
  all.controls = {{1, 0}, {1, 1}, {1, 3}};
  const auto every = hw::run_sweep(all);
  std::size_t closest = 1;
  for (std::size_t h = 1; h < every.heads.size(); ++h)
    if (std::abs(every.baseline[h].metrics[0].mean - every.baseline[0].metrics[0].mean) <
        std::abs(every.baseline[closest].metrics[0].mean - every.baseline[0].metrics[0].mean))
      closest = h;
  auto matched = settings;
  matched.draw = hw::ControlDraw::matched;
  matched.control_count = 1;
  const auto result = hw::run_sweep(matched);
  ASSERT_EQ(result.heads.size(), 2u);
  EXPECT_EQ(result.heads[1], every.heads[closest]) << result.control_choice;
  EXPECT_NE(result.control_choice.find("matched on baseline entropy"), std::string::npos);
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

// The file is rewritten after the baseline (with both checks) and after each condition; a reader opening
// it in between finds every finished condition whole, the pending ones NaN with n = 0, no verdict before
// the end, and the finished numbers exactly those of the final result.
TEST(SweepProgress, TheFileFillsInOneConditionAtATime) {
  const auto dir = headscope::test::temp_dir();
  const auto settings = base_settings("llama", write_prompts(dir, "llama"));
  const auto path = (dir / "sweep.h5").string();
  std::vector<FileState> seen;
  bool first = true;
  const auto result = hw::run_sweep(settings, {}, [&](const hw::SweepResult& partial) {
    hw::write_sweep_file(path, partial, "headscope sweep (test)", first ? false : true);
    first = false;
    seen.push_back(read_file_state(path));
    const FileState& state = seen.back();
    EXPECT_EQ(state.complete, partial.complete());
    EXPECT_EQ(state.conditions_done, static_cast<std::int64_t>(partial.conditions_done()));
    EXPECT_FALSE(fs::exists(path + ".partial")) << "renamed over the file";
  });
  const std::size_t conditions = result.scales.size(), heads = result.heads.size();
  ASSERT_EQ(seen.size(), conditions + 2) << "nothing yet, the baseline, then each condition";
  EXPECT_EQ(seen[0].baseline_done, 0);
  EXPECT_FALSE(seen[0].has_checks) << "the checks run with the baseline";
  EXPECT_TRUE(std::isnan(seen[0].baseline_max_attention[0]));
  for (std::size_t k = 1; k < seen.size(); ++k) {
    const FileState& state = seen[k];
    EXPECT_EQ(state.baseline_done, 1);
    EXPECT_TRUE(state.has_checks);
    EXPECT_EQ(state.baseline_max_attention[0], result.baseline[0].metrics[1].mean);
    EXPECT_EQ(state.conditions_done, static_cast<std::int64_t>(k - 1));
    EXPECT_EQ(state.complete, k + 1 == seen.size());
    for (std::size_t c = 0; c < conditions; ++c) {
      const bool done = c < k - 1;  // ascending scales, one at a time
      EXPECT_EQ(state.condition_done[c], done ? 1.0 : 0.0) << "snapshot " << k << " condition " << c;
      for (std::size_t h = 0; h < heads; ++h) {
        const double mean = state.max_attention_mean[c * heads + h];
        if (done) {
          EXPECT_EQ(mean, result.conditions_by_head[c][h].metrics[1].mean) << "snapshot " << k << " condition " << c;
          EXPECT_EQ(state.max_attention_n[c * heads + h], static_cast<double>(result.token_count));
        } else {
          EXPECT_TRUE(std::isnan(mean)) << "a pending condition (even the target's, measured with the checks) stays NaN";
          EXPECT_EQ(state.max_attention_n[c * heads + h], 0.0);
        }
      }
    }
    EXPECT_EQ(std::isfinite(state.gain[0]), k - 1 >= 3) << "a gain once 3 scales are in";
    if (k + 1 < seen.size()) {
      EXPECT_EQ(state.null_result, "") << "no verdict before the end";
      for (double ratio : state.ratio) EXPECT_TRUE(std::isnan(ratio));
    }
  }
  EXPECT_EQ(seen.back().gain[0], result.gains[0].fit.slope);
  EXPECT_EQ(seen.back().null_result, result.null_result);

  // The same numbers as a sweep run without a progress sink (the phase order changes nothing).
  const auto plain = hw::run_sweep(settings);
  for (std::size_t h = 0; h < heads; ++h) {
    EXPECT_EQ(plain.gains[h].fit.slope, result.gains[h].fit.slope);
    for (std::size_t c = 0; c < conditions; ++c)
      EXPECT_EQ(plain.conditions_by_head[c][h].loss, result.conditions_by_head[c][h].loss);
  }
  EXPECT_EQ(plain.sanity.detail, result.sanity.detail);
  EXPECT_EQ(plain.isolation.detail, result.isolation.detail);
}

// A sweep that dies after two conditions (here: its sink throws) leaves a readable file with the
// baseline, the checks and those two conditions, marked incomplete.
TEST(SweepProgress, ADeadSweepLeavesTheConditionsItFinished) {
  const auto dir = headscope::test::temp_dir();
  const auto settings = base_settings("llama", write_prompts(dir, "llama"));
  const auto path = (dir / "sweep.h5").string();
  EXPECT_THROW(hw::run_sweep(settings, {},
                             [&](const hw::SweepResult& partial) {
                               hw::write_sweep_file(path, partial, "headscope sweep (test)", true);
                               if (partial.conditions_done() == 2) throw std::runtime_error("killed");
                             }),
               std::runtime_error);
  const FileState state = read_file_state(path);
  EXPECT_FALSE(state.complete);
  EXPECT_TRUE(state.has_checks);
  EXPECT_EQ(state.conditions_done, 2);
  EXPECT_EQ(state.condition_done, (std::vector<double>{1, 1, 0, 0, 0}));
  EXPECT_TRUE(std::isfinite(state.max_attention_mean[0]));
  EXPECT_TRUE(std::isnan(state.max_attention_mean.back()));
}

namespace {

// `count` prompts of 48 random token ids (seed 7, ids 3-255) for the llama fixture.
std::string write_random_prompts(const fs::path& dir, int count) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> id(3, 255);
  const auto path = (dir / "random.jsonl").string();
  std::ofstream out(path);
  for (int row = 0; row < count; ++row) {
    out << "{\"id\": \"r" << row << "\", \"ids\": [";
    for (int t = 0; t < 48; ++t) out << (t ? "," : "") << id(random);
    out << "]}\n";
  }
  return path;
}

// Starts `headscope sweep` on the llama fixture as the workbench does (a child, stderr to a log).
headscope::app::ChildProcess start_sweep_child(const fs::path& dir, const std::string& prompts, int samples,
                                              const std::string& out) {
  headscope::app::ChildProcess child;
  child.start({headscope::test::headscope_exe().string(), "sweep", "--model", model_dir("llama").string(), "--prompts", prompts,
               "--target", "1:2", "--controls", "1:0,0:3", "--max-samples", std::to_string(samples), "--threads", "1", "--out", out},
              (dir / "sweep.log").string());
  return child;
}

// Every state a reader can find: pending conditions NaN with n = 0, finished ones a prefix.
void expect_consistent(const FileState& state, std::size_t heads) {
  for (std::size_t c = 0; c < state.condition_done.size(); ++c) {
    const bool done = state.condition_done[c] != 0;
    EXPECT_EQ(done, static_cast<std::int64_t>(c) < state.conditions_done) << "condition " << c;
    for (std::size_t h = 0; h < heads; ++h)
      EXPECT_EQ(std::isnan(state.max_attention_mean[c * heads + h]), !done) << "condition " << c << " head " << h;
  }
}

}  // namespace

// The child's file, read as it grows (as the workbench's sweep window reads it): always whole and
// consistent, its progress never going back, complete at the end.
TEST(SweepChild, ItsFileIsReadableWheneverTheWorkbenchLooks) {
  const auto dir = headscope::test::temp_dir();
  const auto out = (dir / "sweep.h5").string();
  auto child = start_sweep_child(dir, write_random_prompts(dir, 12), 12, out);
  std::int64_t last_done = -1;
  int reads = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (child.poll() && std::chrono::steady_clock::now() < until) {
    if (fs::exists(out)) {
      const FileState state = read_file_state(out);  // throws if a reader ever met a half-written file
      expect_consistent(state, 3);
      EXPECT_GE(state.conditions_done, last_done);
      last_done = state.conditions_done;
      ++reads;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(child.running()) << "the sweep did not finish in 5 minutes";
  EXPECT_EQ(child.exit_code(), 0) << child.failure();
  const FileState final_state = read_file_state(out);
  EXPECT_TRUE(final_state.complete);
  EXPECT_EQ(final_state.conditions_done, 5);
  EXPECT_GT(reads, 0);
}

// Stop (SIGINT) half-way: the child ends, and its file keeps the baseline, both checks and the scales
// finished before, marked incomplete.
TEST(SweepChild, StoppedHalfWayItLeavesTheScalesItFinished) {
  const auto dir = headscope::test::temp_dir();
  const auto out = (dir / "sweep.h5").string();
  auto child = start_sweep_child(dir, write_random_prompts(dir, 300), 300, out);
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (child.poll() && std::chrono::steady_clock::now() < until) {
    if (fs::exists(out) && read_file_state(out).conditions_done >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(child.running()) << "finished before it could be stopped: " << child.failure();
  child.stop();
  while (child.poll()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(child.stop_requested());
  EXPECT_EQ(child.exit_code(), 128 + SIGINT);
  const FileState state = read_file_state(out);
  EXPECT_FALSE(state.complete);
  EXPECT_TRUE(state.has_checks);
  EXPECT_GE(state.conditions_done, 1);
  EXPECT_LT(state.conditions_done, 5);
  expect_consistent(state, 3);
}

// The progress of each forward pass (issue 21: a line per interval instead of one per sample): it counts
// up by one to exactly the total announced, for every kind of run and for the gain scan, and the tokens
// through the model grow with it.
TEST(SweepProgress, EveryForwardPassCountsUpToTheTotal) {
  const auto dir = headscope::test::temp_dir();
  auto settings = base_settings("gpt2", write_prompts(dir, "gpt2"));
  auto expect_counted = [](const std::vector<hw::RunProgress>& seen) {
    ASSERT_FALSE(seen.empty());
    for (std::size_t k = 0; k < seen.size(); ++k) {
      EXPECT_EQ(seen[k].runs_done, static_cast<std::int64_t>(k + 1));
      EXPECT_EQ(seen[k].run_count, seen.back().run_count);
      EXPECT_FALSE(seen[k].phase.empty());
      if (k > 0) {
        EXPECT_GT(seen[k].tokens_done, seen[k - 1].tokens_done);
      }
    }
    EXPECT_EQ(seen.back().runs_done, seen.back().run_count);
  };
  for (const auto kind : {hw::SweepKind::query_scale, hw::SweepKind::ablate_mean}) {
    SCOPED_TRACE(hw::sweep_kind_name(kind));
    settings.kind = kind;
    std::vector<hw::RunProgress> seen;
    hw::run_sweep(settings, {}, {}, [&](const hw::RunProgress& p) { seen.push_back(p); });
    expect_counted(seen);
  }
  hw::GainScanSettings scan;
  scan.run = settings.run;
  scan.samples = settings.samples;
  scan.layer = 1;
  std::vector<hw::RunProgress> seen;
  hw::run_gain_scan(scan, {}, [&](const hw::RunProgress& p) { seen.push_back(p); });
  expect_counted(seen);
}
