// Spectra's capture conventions (METRICS.md, "Seed conventions to reproduce"): the pre-RoPE measured
// attention (`capture --attention pre-rope`) against independent computations — HF transformers' own
// pre-RoPE q and k (GQA, Qwen2's biases, Mistral's window) and a few lines of libtorch on the sample
// Llama's checkpoint weights — equal to the model's attention where there is no RoPE (GPT-2), the same
// in query-row blocks, refused by a resume of the other mode; and `--nan-first N`'s NaN entropy.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>

#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"
#include "capture/model/weights_torch.h"
#include "capture/session/capture_session.h"
#include "capture/session/measure_torch.h"
#include "capture/session/recompute.h"
#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace hc = headscope::capture;
namespace hs = headscope::store;
namespace fs = std::filesystem;

namespace {

fs::path reference_dir(const std::string& name) { return headscope::test::fixtures_dir() / "hf-reference" / name; }
fs::path sample_model_dir(const std::string& name) { return headscope::test::fixtures_dir() / ".." / ".." / "samples" / "models" / name; }

at::Tensor safetensor(const fs::path& file_path, const std::string& name) {
  hm::SafetensorsFile file(file_path);
  return hm::tensor_from_safetensors(file, file.info(name)).to(at::kFloat);
}

// Keeps every layer's pattern, [batch, head, query, key] float32.
class PatternRecorder : public hm::ProbeObserver {
 public:
  bool wants(const hm::ProbeSite& site) override { return site.point == hm::ProbePoint::pattern; }
  void observe(const hm::ProbeSite& site, const at::Tensor& value) override { patterns[site.layer] = value.clone(); }
  std::map<int, at::Tensor> patterns;
};

std::map<int, at::Tensor> patterns(hm::Model& model, const at::Tensor& ids, bool pre_rope) {
  PatternRecorder recorder;
  hm::ForwardOptions options;
  options.observer = &recorder;
  options.pattern_pre_rope = pre_rope;
  at::NoGradGuard no_grad;
  model.forward(ids, nullptr, options);
  return recorder.patterns;
}

// softmax(q kᵀ/√d + mask) in float32 from q [batch, head, T, d] and k [batch, kv_head, T, d], each query head
// with its GQA key head (head / group); causal, and keys j <= i - window masked when window > 0.
at::Tensor plain_pre_rope_pattern(const at::Tensor& q, const at::Tensor& k, int window) {
  const auto heads = q.size(1), T = q.size(2), d = q.size(3);
  const at::Tensor keys = k.repeat_interleave(heads / k.size(1), 1);
  at::Tensor scores = at::matmul(q, keys.transpose(2, 3)) / std::sqrt(static_cast<double>(d));
  const at::Tensor i = at::arange(T).unsqueeze(1), j = at::arange(T).unsqueeze(0);
  at::Tensor blocked = j > i;
  if (window > 0) blocked = blocked | (j <= i - window);
  return at::softmax(scores.masked_fill(blocked, -std::numeric_limits<float>::infinity()), -1);
}

std::string write_prompts(const fs::path& dir, const std::vector<std::vector<std::int64_t>>& prompts) {
  const auto path = (dir / "prompts.jsonl").string();
  std::ofstream out(path);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    out << "{\"id\": \"p" << i << "\", \"ids\": [";
    for (std::size_t t = 0; t < prompts[i].size(); ++t) out << (t ? "," : "") << prompts[i][t];
    out << "]}\n";
  }
  return path;
}

hc::CaptureSettings settings_for(const fs::path& model, const std::string& prompts, const fs::path& out,
                                 hs::AttentionMode attention) {
  hc::CaptureSettings s;
  s.model_dir = model.string();
  s.prompts_path = prompts;
  s.out_path = out.string();
  s.float32_metrics = true;
  s.threads = 2;
  s.attention = attention;
  return s;
}

void run_capture(const hc::CaptureSettings& settings) {
  hc::CaptureSession session(settings);
  session.start();
  session.wait();
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i])) largest = std::max(largest, std::abs(static_cast<double>(a[i]) - b[i]));
  return largest;
}

}  // namespace

class PreRopePattern : public ::testing::TestWithParam<std::string> {};

// Against HF transformers' own q_pre / k_pre of every layer (reference.safetensors), batch 2. Tolerance
// 2e-5: those q and k match ours to 1e-5 (test_model_parity), and the softmax keeps that scale.
TEST_P(PreRopePattern, EqualsHfPreRopeQueriesAndKeys) {
  const std::string name = GetParam();
  const fs::path reference = reference_dir(name) / "reference.safetensors";
  auto model = hm::Model::load(reference_dir(name));
  const at::Tensor ids = safetensor(reference, "input_ids").to(at::kLong);
  const auto measured = patterns(*model, ids, true), real = patterns(*model, ids, false);
  const int window = model->config().sliding_window.value_or(0);
  for (int layer = 0; layer < model->config().layer_count; ++layer) {
    const std::string suffix = ".L" + std::to_string(layer);
    const at::Tensor expected = plain_pre_rope_pattern(safetensor(reference, "q_pre" + suffix), safetensor(reference, "k_pre" + suffix), window);
    ASSERT_EQ(measured.at(layer).sizes(), expected.sizes());
    EXPECT_LE((measured.at(layer) - expected).abs().max().item<double>(), 2e-5) << name << " layer " << layer;
    EXPECT_GT((measured.at(layer) - real.at(layer)).abs().max().item<double>(), 1e-3) << name << ": RoPE changes the pattern";
  }
}

INSTANTIATE_TEST_SUITE_P(HfReference, PreRopePattern, ::testing::Values("llama", "qwen2", "mistral-swa8"));

// GPT-2 has no RoPE: the pre-RoPE pattern is the model's, bit for bit.
TEST(PreRopePatternGpt2, EqualsTheModelsAttention) {
  auto model = hm::Model::load(reference_dir("gpt2"));
  const at::Tensor ids = safetensor(reference_dir("gpt2") / "reference.safetensors", "input_ids").to(at::kLong);
  const auto measured = patterns(*model, ids, true), real = patterns(*model, ids, false);
  for (int layer = 0; layer < model->config().layer_count; ++layer) EXPECT_TRUE(at::equal(measured.at(layer), real.at(layer)));
}

// The sample Llama's layer 0 from its checkpoint alone: q_pre, k_pre = q_proj, k_proj of RMSNorm(embedding),
// then the stored entropy and max attention of a pre-rope capture are those of softmax(q kᵀ/√d + causal);
// a model-mode capture of the same prompt measures something else.
TEST(PreRopeCapture, ArithLlamaMetricsFromTheCheckpointWeights) {
  const fs::path model = sample_model_dir("arith-llama");
  const auto dir = headscope::test::temp_dir();
  const std::string prompts = write_prompts(dir, {{1, 10, 11, 12, 13, 20, 21, 30, 31, 40, 41, 50, 60, 61, 62, 63}});
  run_capture(settings_for(model, prompts, dir / "pre.h5", hs::AttentionMode::pre_rope));
  run_capture(settings_for(model, prompts, dir / "model.h5", hs::AttentionMode::model));
  auto pre = hs::StoreReader::open((dir / "pre.h5").string());
  auto real = hs::StoreReader::open((dir / "model.h5").string());
  EXPECT_EQ(pre->provenance().settings.attention, "pre-rope");
  EXPECT_EQ(real->provenance().settings.attention, "model");

  const fs::path weights = model / "model.safetensors";
  const auto tokens = pre->tokens(0);
  const at::Tensor ids = at::tensor(std::vector<std::int64_t>(tokens.begin(), tokens.end()), at::TensorOptions().dtype(at::kLong));
  const at::Tensor x = safetensor(weights, "model.embed_tokens.weight").index_select(0, ids);  // [T, hidden]
  const at::Tensor normed = x * at::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * safetensor(weights, "model.layers.0.input_layernorm.weight");
  const int heads = pre->layout().head_count, head_dim = 16, kv_heads = 2;
  const auto T = ids.size(0);
  const at::Tensor q = at::matmul(normed, safetensor(weights, "model.layers.0.self_attn.q_proj.weight").t())
                           .view({1, T, heads, head_dim}).transpose(1, 2);
  const at::Tensor k = at::matmul(normed, safetensor(weights, "model.layers.0.self_attn.k_proj.weight").t())
                           .view({1, T, kv_heads, head_dim}).transpose(1, 2);
  const at::Tensor expected = plain_pre_rope_pattern(q, k, 0)[0];  // [head, T, T]
  const at::Tensor expected_entropy = -(expected * at::log(expected.clamp_min(1e-30))).sum(-1);  // [head, T]
  const at::Tensor expected_max = std::get<0>(expected.max(-1));
  for (int head = 0; head < heads; ++head) {
    const auto entropy = pre->head_trace("entropy", 0, {0, head});
    const auto max_attention = pre->head_trace("max_attention", 0, {0, head});
    for (std::int64_t t = 0; t < T; ++t) {
      EXPECT_NEAR(entropy[t], expected_entropy[head][t].item<double>(), 2e-5) << "H" << head << " t=" << t;
      EXPECT_NEAR(max_attention[t], expected_max[head][t].item<double>(), 2e-5) << "H" << head << " t=" << t;
    }
  }
  // Every layer: the modes differ in what they measure, not in the forward pass (query norms are equal).
  for (int layer = 0; layer < pre->layout().layer_count; ++layer) {
    const auto pre_entropy = pre->layer_slice("entropy", 0, layer), real_entropy = real->layer_slice("entropy", 0, layer);
    EXPECT_GT(max_abs_diff(pre_entropy, real_entropy), 1e-3) << "layer " << layer;
    EXPECT_LE(max_abs_diff(pre->layer_slice("query_norm", 0, layer), real->layer_slice("query_norm", 0, layer)), 1e-5) << "layer " << layer;
  }
}

// GPT-2 (no RoPE): a pre-rope capture stores what a model capture stores, and says why.
TEST(PreRopeCapture, Gpt2EqualsModelModeAndSaysSo) {
  const auto dir = headscope::test::temp_dir();
  const std::string prompts = write_prompts(dir, {{5, 9, 2, 7, 30, 31, 32, 4, 8, 15, 16, 23}});
  run_capture(settings_for(reference_dir("gpt2"), prompts, dir / "pre.h5", hs::AttentionMode::pre_rope));
  run_capture(settings_for(reference_dir("gpt2"), prompts, dir / "model.h5", hs::AttentionMode::model));
  auto pre = hs::StoreReader::open((dir / "pre.h5").string());
  auto real = hs::StoreReader::open((dir / "model.h5").string());
  EXPECT_FALSE(pre->provenance().settings.attention_note.empty());
  EXPECT_TRUE(real->provenance().settings.attention_note.empty());
  for (const auto& metric : pre->layout().metrics)
    for (int layer = 0; layer < pre->layout().layer_count; ++layer) {
      const auto a = pre->layer_slice(metric.name, 0, layer), b = real->layer_slice(metric.name, 0, layer);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE((std::isnan(a[i]) && std::isnan(b[i])) || a[i] == b[i]) << metric.name << " layer " << layer << " [" << i << "]";
    }
}

// Query-row blocks (a 1-byte budget: blocks of 16 rows) measure the same pre-RoPE attention as one block,
// on the CPU kernel and on the torch-op path; pinned rows and flow included.
TEST(PreRopeCapture, BlockedEqualsOneBlock) {
  auto model = hm::Model::load(reference_dir("mistral-swa8"));
  std::vector<std::int64_t> ids(70);
  for (std::size_t t = 0; t < ids.size(); ++t) ids[t] = static_cast<std::int64_t>((t * 37 + 11) % model->config().vocab_size);
  for (const bool torch_path : {false, true}) {
    auto measure = [&](std::uint64_t budget) {
      hc::MeasureInput input;
      input.input_ids = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
      input.flow_positions = {3, 20, 40, 69};
      hc::MeasureOptions options;
      options.pinned_heads = {{1, 1}};
      options.pre_rope_attention = true;
      options.attention_budget_bytes = budget;
      options.use_torch_metrics = torch_path;
      hs::SampleRecord record;
      hc::measure_sample(*model, input, options, record);
      return record;
    };
    const auto whole = measure(std::uint64_t{1} << 40), blocked = measure(1);
    for (std::size_t m = 0; m < whole.metrics.size(); ++m)
      EXPECT_LE(max_abs_diff(whole.metrics[m], blocked.metrics[m]), 1e-5) << "metric " << m << (torch_path ? " torch" : " cpu");
    EXPECT_LE(max_abs_diff(whole.flow, blocked.flow), 1e-6);
    EXPECT_LE(max_abs_diff(whole.pinned_attention[0], blocked.pinned_attention[0]), 1e-6);
  }
}

// A store captured in one mode is not continued in the other: the resume fails before touching it.
TEST(PreRopeCapture, ResumeWithTheOtherModeIsRefused) {
  const auto dir = headscope::test::temp_dir();
  const std::string prompts = write_prompts(dir, {{5, 9, 2, 7, 30, 31}, {4, 8, 15, 16, 23, 42}});
  auto settings = settings_for(reference_dir("llama"), prompts, dir / "run.h5", hs::AttentionMode::model);
  settings.max_samples = 1;
  run_capture(settings);
  settings.max_samples = -1;
  settings.resume = true;
  settings.attention = hs::AttentionMode::pre_rope;
  hc::CaptureSession refused(settings);
  EXPECT_THROW(refused.start(), std::runtime_error);
  EXPECT_EQ(hs::StoreReader::open(settings.out_path)->sample_count(), 1);
  settings.attention = hs::AttentionMode::model;  // the same mode continues it
  run_capture(settings);
  EXPECT_EQ(hs::StoreReader::open(settings.out_path)->sample_count(), 2);
}

// --nan-first 2: entropy of the first two positions of every sample is NaN, every other value as without
// it; the per-sample summary (the head grid's) averages the finite rest; inspect reports it.
TEST(CaptureNanFirst, EntropyOfTheFirstPositionsIsNaN) {
  const auto dir = headscope::test::temp_dir();
  const std::string prompts = write_prompts(dir, {{5, 9, 2, 7, 30, 31, 32, 4}, {4, 8, 15, 16, 23, 42, 11}});
  auto settings = settings_for(reference_dir("llama"), prompts, dir / "plain.h5", hs::AttentionMode::model);
  run_capture(settings);
  settings.out_path = (dir / "nan.h5").string();
  settings.nan_first = 2;
  run_capture(settings);
  auto plain = hs::StoreReader::open((dir / "plain.h5").string());
  auto nan = hs::StoreReader::open(settings.out_path);
  const auto& layout = nan->layout();
  const std::size_t per_token = static_cast<std::size_t>(layout.layer_count) * layout.head_count;
  std::vector<float> expected_summary;
  for (std::int64_t sample = 0; sample < 2; ++sample)
    for (int layer = 0; layer < layout.layer_count; ++layer)
      for (const auto& metric : layout.metrics) {
        const auto a = nan->layer_slice(metric.name, sample, layer), b = plain->layer_slice(metric.name, sample, layer);
        for (std::size_t i = 0; i < a.size(); ++i) {
          const bool first_two = i / static_cast<std::size_t>(layout.head_count) < 2;
          if (metric.name == "entropy" && first_two) EXPECT_TRUE(std::isnan(a[i])) << "sample " << sample << " [" << i << "]";
          else EXPECT_TRUE((std::isnan(a[i]) && std::isnan(b[i])) || a[i] == b[i]) << metric.name << " [" << i << "]";
        }
      }
  const auto summary = nan->summary("entropy");  // [samples, layer, head]
  for (std::int64_t sample = 0; sample < 2; ++sample)
    for (int layer = 0; layer < layout.layer_count; ++layer)
      for (int head = 0; head < layout.head_count; ++head) {
        const auto trace = plain->head_trace("entropy", sample, {layer, head});
        double sum = 0;
        for (std::size_t t = 2; t < trace.size(); ++t) sum += trace[t];
        const float stored = summary[static_cast<std::size_t>(sample) * per_token + static_cast<std::size_t>(layer) * layout.head_count + head];
        EXPECT_NEAR(stored, sum / static_cast<double>(trace.size() - 2), 1e-5);
      }
  EXPECT_EQ(nan->provenance().settings.entropy_nan_first, 2);
  EXPECT_EQ(hs::inspect_json(settings.out_path)["measured"]["entropy_nan_first"].get<int>(), 2);
}

// The command struct's --attention is one of the declared modes; anything else is refused by name.
TEST(CaptureNanFirst, SettingsTakeTheModeAndRefuseOthers) {
  headscope::commands::CaptureCommand command;
  command.model_dir = "m";
  command.prompts_path = "p.jsonl";
  command.out_path = "o.h5";
  command.attention = "pre-rope";
  command.nan_first = 2;
  const auto settings = hc::capture_settings(command, "");
  EXPECT_EQ(settings.attention, hs::AttentionMode::pre_rope);
  EXPECT_EQ(settings.nan_first, 2);
  command.attention = "post-rope";
  EXPECT_THROW(hc::capture_settings(command, ""), std::invalid_argument);
  command.attention = "model";
  command.nan_first = -1;
  EXPECT_THROW(hc::capture_settings(command, ""), std::invalid_argument);
}

// The drill-down's on-demand recompute of a pre-rope run (whole matrix and tiles) equals what the capture
// stored for a pinned head, and differs from the model's attention.
TEST(PreRopeCapture, RecomputeEqualsThePinnedPreRopeAttention) {
  const auto dir = headscope::test::temp_dir();
  const std::string prompts = write_prompts(dir, {{5, 9, 2, 7, 30, 31, 32, 4, 8, 15, 16, 23}});
  auto settings = settings_for(reference_dir("qwen2"), prompts, dir / "run.h5", hs::AttentionMode::pre_rope);
  settings.pinned_heads = {{1, 2}};
  run_capture(settings);
  auto reader = hs::StoreReader::open(settings.out_path);
  const auto pinned = reader->pinned_attention(0, {1, 2});
  ASSERT_TRUE(pinned.has_value());
  const auto tokens = reader->tokens(0);
  const int T = static_cast<int>(tokens.size());
  hc::AttentionRecomputer recomputer(reference_dir("qwen2").string());
  EXPECT_LE(max_abs_diff(recomputer.head_attention(tokens, {1, 2}, true), *pinned), 1e-6);
  std::vector<int> rows(static_cast<std::size_t>(T));
  for (int r = 0; r < T; ++r) rows[static_cast<std::size_t>(r)] = r;
  EXPECT_LE(max_abs_diff(recomputer.head_attention_tile(tokens, {1, 2}, rows, 0, T, true), *pinned), 1e-5);
  EXPECT_TRUE(recomputer.has_cached_sequence(tokens, true));
  EXPECT_FALSE(recomputer.has_cached_sequence(tokens, false));
  EXPECT_GT(max_abs_diff(recomputer.head_attention(tokens, {1, 2}, false), *pinned), 1e-3);
}
