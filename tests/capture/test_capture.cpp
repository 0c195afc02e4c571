// The capture engine on the hf-reference models: every stored metric equals a plain re-computation
// from the runtime's own attention probabilities (METRICS.md definitions, core/analysis single-row
// functions); the torch-op metric path (used on CUDA) equals the fused CPU kernel; flow matrices are
// the K×K block of the full attention; a pinned head's stored attention equals the runtime's; IAF and
// JSD line up at the prompt/generation boundary.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"
#include "capture/model/weights_torch.h"
#include "capture/session/capture_session.h"
#include "capture/session/measure_torch.h"
#include "capture/session/sequence_bounds.h"
#include "core/analysis/attention_metrics.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace hc = headscope::capture;
namespace hs = headscope::store;
namespace ha = headscope::analysis;
namespace fs = std::filesystem;

namespace {

fs::path model_dir(const std::string& name) { return headscope::test::fixtures_dir() / "hf-reference" / name; }

std::vector<std::int64_t> reference_ids(const std::string& model, int row, int count) {
  hm::SafetensorsFile file(model_dir(model) / "reference.safetensors");
  at::Tensor ids = hm::tensor_from_safetensors(file, file.info("input_ids")).to(at::kLong);
  std::vector<std::int64_t> out;
  for (int t = 0; t < count; ++t) out.push_back(ids[row][t].item<std::int64_t>());
  return out;
}

// A prompt set with token ids (the fixtures have no tokenizer).
std::string write_prompts(const fs::path& dir, const std::vector<std::vector<std::int64_t>>& prompts) {
  const auto path = (dir / "prompts.jsonl").string();
  std::ofstream out(path);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    out << "{\"id\": \"p" << i << "\", \"level\": " << (i % 3 + 1) << ", \"ids\": [";
    for (std::size_t t = 0; t < prompts[i].size(); ++t) out << (t ? "," : "") << prompts[i][t];
    out << "]}\n";
  }
  return path;
}

class PatternRecorder : public hm::ProbeObserver {
 public:
  bool wants(const hm::ProbeSite& site) override {
    return site.point == hm::ProbePoint::pattern || site.point == hm::ProbePoint::q_pre;
  }
  void observe(const hm::ProbeSite& site, const at::Tensor& value) override {
    (site.point == hm::ProbePoint::pattern ? patterns : queries)[site.layer] = value[0].to(at::kFloat).clone();
  }
  std::map<int, at::Tensor> patterns;  // layer -> [head, query, key]
  std::map<int, at::Tensor> queries;   // layer -> [head, query, head_dim]
};

PatternRecorder run_model(const std::string& name, const std::vector<std::int64_t>& ids) {
  auto model = hm::Model::load(model_dir(name));
  PatternRecorder recorder;
  hm::ForwardOptions options;
  options.observer = &recorder;
  at::NoGradGuard no_grad;
  model->forward(at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0), nullptr, options);
  return recorder;
}

void expect_close(float stored, double expected, double tolerance, const std::string& what) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(stored)) << what << ": expected NaN, stored " << stored;
  } else {
    EXPECT_NEAR(stored, expected, tolerance) << what;
  }
}

hc::CaptureSettings base_settings(const std::string& model, const std::string& prompts, const std::string& out) {
  hc::CaptureSettings s;
  s.model_dir = model_dir(model).string();
  s.prompts_path = prompts;
  s.out_path = out;
  s.float32_metrics = true;
  s.threads = 2;
  return s;
}

void run_capture(const hc::CaptureSettings& settings) {
  hc::CaptureSession session(settings);
  session.start();
  session.wait();
}

}  // namespace

class CaptureParity : public ::testing::TestWithParam<std::string> {};

// Every metric of every head at every token against a re-computation from the runtime's attention.
TEST_P(CaptureParity, StoredMetricsEqualPlainRecomputation) {
  const std::string name = GetParam();
  const auto dir = headscope::test::temp_dir();
  const auto ids = reference_ids(name, 0, 24);
  auto settings = base_settings(name, write_prompts(dir, {ids}), (dir / "run.h5").string());
  settings.pinned_heads = {{1, 2}};
  settings.jsd_window = 3;
  run_capture(settings);

  auto reader = hs::StoreReader::open(settings.out_path);
  ASSERT_EQ(reader->sample_count(), 1);
  const auto recorder = run_model(name, ids);
  const auto& layout = reader->layout();
  const int T = 24;
  int window = 0;
  if (name == "mistral-swa8") window = 8;
  for (int layer = 0; layer < layout.layer_count; ++layer) {
    const at::Tensor pattern = recorder.patterns.at(layer).contiguous();  // [head, query, key]
    for (int head = 0; head < layout.head_count; ++head) {
      const std::string where = name + " L" + std::to_string(layer) + "H" + std::to_string(head);
      const float* rows = pattern[head].data_ptr<float>();
      auto trace = [&](const char* metric) { return reader->head_trace(metric, 0, {layer, head}); };
      const auto entropy = trace("entropy"), max_attention = trace("max_attention"), k90 = trace("k90"),
                 connectivity = trace("connectivity"), jsd = trace("jsd"), windowed = trace("windowed_jsd"),
                 received = trace("received_attention"), iaf = trace("iaf"), query_norm = trace("query_norm");
      for (int t = 0; t < T; ++t) {
        std::vector<std::uint8_t> mask(T, 0);
        for (int k = 0; k <= t; ++k) mask[k] = window == 0 || k > t - window;
        const float* row = rows + t * T;
        expect_close(entropy[t], ha::row_entropy(row, T, mask.data()), 1e-5, where + " entropy t=" + std::to_string(t));
        expect_close(max_attention[t], ha::row_max_attention(row, T, mask.data()), 1e-6, where + " max_attention");
        EXPECT_EQ(k90[t], ha::row_k90(row, T, mask.data())) << where << " k90 t=" << t;
        EXPECT_EQ(connectivity[t], ha::row_connectivity(row, T, mask.data(), 0.1)) << where << " connectivity";
        EXPECT_TRUE(std::isnan(iaf[t])) << "teacher-forced: every position is prompt, IAF undefined";
        expect_close(jsd[t], t == 0 ? NAN : ha::jsd(rows + (t - 1) * T, t, row, t + 1), 1e-5, where + " jsd");
        const double q_norm = recorder.queries.at(layer)[head][t].norm().item<double>();
        expect_close(query_norm[t], q_norm, 1e-5 * std::max(1.0, q_norm), where + " query_norm");
        double mass = 0;
        for (int q = t + 1; q < T; ++q) {
          double row_mass = 0;
          for (int k = 0; k < T; ++k) row_mass += rows[q * T + k];
          mass += rows[q * T + t] / row_mass;
        }
        expect_close(received[t], mass, 1e-5, where + " received");
      }
      // Windowed JSD from the plain definition.
      std::vector<std::vector<double>> padded(T);
      for (int t = 0; t < T; ++t)
        for (int k = 0; k <= t; ++k) padded[t].push_back(rows[t * T + k]);
      const auto expected_windowed = ha::windowed_jsd(padded, 3);
      for (int t = 0; t < T; ++t) expect_close(windowed[t], expected_windowed[t], 1e-5, where + " windowed_jsd");
      // Flow: the 6x6 block of the full attention at the last 6 positions.
      const auto flow = reader->flow(0);
      const auto positions = reader->flow_positions(0);
      ASSERT_EQ(positions, (std::vector<std::int32_t>{18, 19, 20, 21, 22, 23}));
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j)
          EXPECT_FLOAT_EQ(flow[((layer * layout.head_count + head) * 6 + i) * 6 + j], rows[positions[i] * T + positions[j]]);
    }
  }
  // The pinned head's stored attention equals the runtime's.
  const auto pinned = reader->pinned_attention(0, {1, 2});
  ASSERT_TRUE(pinned.has_value());
  const at::Tensor expected = recorder.patterns.at(1)[2].contiguous();
  for (int i = 0; i < T * T; ++i) EXPECT_FLOAT_EQ((*pinned)[i], expected.data_ptr<float>()[i]);
}

INSTANTIATE_TEST_SUITE_P(HfReference, CaptureParity, ::testing::Values("gpt2", "llama", "mistral-swa8"));

// The torch-op metrics (the CUDA path) equal the fused C++ kernel on the same attention.
TEST(CaptureMetrics, TorchPathEqualsCpuKernel) {
  const auto ids = reference_ids("qwen2", 1, 24);
  const auto recorder = run_model("qwen2", ids);
  for (const auto& [layer, pattern] : recorder.patterns) {
    const int prompt = 10, T = 24;
    at::Tensor torch_metrics = hc::torch_layer_metrics(pattern, prompt, 0, 3, 0.1);  // [8, query, head]
    for (int head = 0; head < pattern.size(0); ++head) {
      const at::Tensor rows = pattern[head].contiguous();
      std::vector<float> out(8 * T);
      ha::HeadAttention attention{rows.data_ptr<float>(), T, T};
      ha::TokenMetricOptions options;
      options.prompt_length = prompt;
      options.jsd_window = 3;
      ha::TokenMetricOutputs outputs;
      outputs.entropy = &out[0 * T];
      outputs.max_attention = &out[1 * T];
      outputs.k90 = &out[2 * T];
      outputs.input_attention_fraction = &out[3 * T];
      outputs.jsd_previous = &out[4 * T];
      outputs.windowed_jsd = &out[5 * T];
      outputs.connectivity = &out[6 * T];
      outputs.received_attention = &out[7 * T];
      ha::compute_token_metrics(attention, options, outputs);
      for (int m = 0; m < 8; ++m)
        for (int t = 0; t < T; ++t)
          expect_close(torch_metrics[m][t][head].item<float>(), out[m * T + t], 2e-5,
                       "metric " + std::to_string(m) + " layer " + std::to_string(layer) + " head " +
                           std::to_string(head) + " t " + std::to_string(t));
    }
  }
}

// Generation: the stored tokens are the prompt plus the greedy ids; IAF is NaN on the prompt and the
// prompt mass fraction after it; JSD at the first generated step compares it with the last prompt row.
TEST(CaptureModes, GenerationAlignsAtThePromptBoundary) {
  const auto dir = headscope::test::temp_dir();
  const auto prompt = reference_ids("llama", 0, 10);
  auto settings = base_settings("llama", write_prompts(dir, {prompt}), (dir / "gen.h5").string());
  settings.mode = hc::CaptureMode::generate;
  settings.generate_tokens = 8;
  run_capture(settings);
  auto reader = hs::StoreReader::open(settings.out_path);
  const auto tokens = reader->tokens(0);
  ASSERT_EQ(tokens.size(), 18u);
  EXPECT_EQ(reader->sample(0).prompt_length, 10);
  const std::vector<std::int32_t> greedy{76, 41, 226, 222, 210, 20, 157, 106};  // hf-reference README
  EXPECT_EQ(std::vector<std::int32_t>(tokens.begin() + 10, tokens.end()), greedy);
  const auto recorder = run_model("llama", std::vector<std::int64_t>(tokens.begin(), tokens.end()));
  for (int layer = 0; layer < 2; ++layer)
    for (int head = 0; head < 4; ++head) {
      const auto iaf = reader->head_trace("iaf", 0, {layer, head});
      const auto jsd = reader->head_trace("jsd", 0, {layer, head});
      const at::Tensor rows = recorder.patterns.at(layer)[head].contiguous();
      const float* data = rows.data_ptr<float>();
      for (int t = 0; t < 18; ++t) {
        if (t < 10) {
          EXPECT_TRUE(std::isnan(iaf[t])) << "prompt position " << t;
        } else {
          expect_close(iaf[t], ha::row_input_attention_fraction(data + t * 18, t + 1, 10), 1e-5, "iaf");
        }
      }
      expect_close(jsd[10], ha::jsd(data + 9 * 18, 10, data + 10 * 18, 11), 1e-5, "jsd at the boundary");
    }
}

// Bad input: a prompt file with a broken line names the file and line; nothing is left looking complete.
TEST(CaptureModes, BadPromptLineIsAClearError) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = (dir / "bad.jsonl").string();
  std::ofstream(prompts) << "{\"ids\": [1, 2, 3]}\n{\"ids\": [1, 2, \n";
  auto settings = base_settings("gpt2", prompts, (dir / "bad.h5").string());
  settings.flow_size = 0;
  hc::CaptureSession session(settings);
  session.start();
  try {
    session.wait();
    FAIL() << "a broken prompt line must fail the capture";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
  auto reader = hs::StoreReader::open(settings.out_path);
  EXPECT_EQ(reader->sample_count(), 1);  // the good sample before the broken line is kept
}

// Issue 15 items 10 and 11: an empty prompt set, a sequence too long for memory and a --flow that is not a
// selection are errors before anything is written; a RoPE model past max_position_embeddings is refused.
TEST(CaptureInputBounds, EmptyPromptSetIsAnErrorAndWritesNothing) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = (dir / "empty.jsonl").string();
  std::ofstream(prompts) << "\n  \n";
  auto settings = base_settings("gpt2", prompts, (dir / "empty.h5").string());
  hc::CaptureSession session(settings);
  EXPECT_THROW(session.start(), std::runtime_error);
  EXPECT_FALSE(fs::exists(settings.out_path));
}

TEST(CaptureInputBounds, SequenceLengthIsBoundedByMemoryAndPositions) {
  auto config = hm::read_model_config(model_dir("llama") / "config.json");
  config.max_positions = 1 << 20;  // the memory bound alone
  // 2 layers x 4 heads, hidden 64: 100,000 tokens need about 0.4 GB (arrays, hidden states, one block).
  EXPECT_NO_THROW(hc::check_sequence_length(config, 100000, "p:1: ", std::uint64_t{1} << 30));
  EXPECT_THROW(hc::check_sequence_length(config, 100000, "p:1: ", std::uint64_t{64} << 20), std::runtime_error);
  EXPECT_THROW(hc::check_sequence_length(config, std::int64_t{1} << 40, "p:1: "), std::runtime_error);  // any machine
  // A pinned head keeps its tokens x tokens matrix: 100,000 tokens pinned need 40 GB.
  EXPECT_THROW(hc::check_sequence_length(config, 100000, "p:1: ", std::uint64_t{1} << 30, 1), std::runtime_error);
  // Past max_position_embeddings (128, no rope_scaling) is refused.
  const auto fixture = hm::read_model_config(model_dir("llama") / "config.json");
  EXPECT_NO_THROW(hc::check_sequence_length(fixture, fixture.max_positions, "p:4: ", std::uint64_t{1} << 40));
  EXPECT_THROW(hc::check_sequence_length(fixture, fixture.max_positions + 1, "p:2: ", std::uint64_t{1} << 40), std::runtime_error);
}

TEST(CaptureInputBounds, FlowTextMustBeASelection) {
  headscope::commands::CaptureCommand command;
  command.model_dir = "m";
  command.prompts_path = "p.jsonl";
  command.out_path = "o.h5";
  for (const char* flow : {"marker:abc", "marker:", "marker:-4", "3,x", "3,,4", "99999999999"}) {
    command.flow = flow;
    EXPECT_THROW(hc::capture_settings(command, ""), std::invalid_argument) << flow;
  }
  command.flow = "marker:17";
  EXPECT_EQ(hc::capture_settings(command, "").flow_marker_id, 17);
  command.flow = "3,7,-1";
  EXPECT_EQ(hc::capture_settings(command, "").flow_positions, (std::vector<int>{3, 7, -1}));
  command.flow = "last";
  command.jsd_window = 0;
  EXPECT_THROW(hc::capture_settings(command, ""), std::invalid_argument);
}
