// Long context: the query-blocked attention (how a 32k-token capture stays in bounded memory) gives the
// same measurements as one block, array by array — metrics, flow, pinned rows — on the CPU kernel and on
// the torch-op path (CUDA's), for GQA, a sliding window, biases and GPT-2; blocks arrive in order with
// at most the budget's rows; and positions past what the config's RoPE covers are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>

#include "capture/model/model_torch.h"
#include "capture/session/capture_session.h"
#include "capture/session/measure_torch.h"
#include "capture/session/sequence_bounds.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace hc = headscope::capture;
namespace hs = headscope::store;

namespace {

std::filesystem::path model_dir(const std::string& name) {
  return headscope::test::fixtures_dir() / "hf-reference" / name;
}

at::Tensor random_ids(const hm::ModelConfig& config, int count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> id(0, config.vocab_size - 1);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  for (auto& v : ids) v = id(rng);
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
}

hs::SampleRecord measure(hm::Model& model, const at::Tensor& ids, std::uint64_t budget, bool torch_path) {
  hc::MeasureInput input;
  input.input_ids = ids;
  input.prompt_length = 37;
  input.flow_positions = {3, 16, 17, 40, 95, static_cast<int>(ids.size(1)) - 1};
  hc::MeasureOptions options;
  options.pinned_heads = {{0, 1}, {1, 0}};
  options.attention_budget_bytes = budget;
  options.use_torch_metrics = torch_path;
  hs::SampleRecord record;
  hc::measure_sample(model, input, options, record);
  return record;
}

// Equal to float rounding: |a - b| <= tolerance * (1 + |a|), NaN where NaN.
void expect_same(const std::vector<float>& a, const std::vector<float>& b, const std::string& what, double tolerance = 1e-5) {
  ASSERT_EQ(a.size(), b.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool same = (std::isnan(a[i]) && std::isnan(b[i])) || std::memcmp(&a[i], &b[i], sizeof(float)) == 0 ||
                      std::abs(static_cast<double>(a[i]) - b[i]) <= tolerance * (1.0 + std::abs(a[i]));
    if (!same && reported++ < 5) ADD_FAILURE() << what << " [" << i << "]: " << a[i] << " vs " << b[i];
  }
}

}  // namespace

class BlockedAttention : public ::testing::TestWithParam<std::string> {};

// Budget 1 byte: blocks of kMinimumQueryBlock (16) rows, so 120 tokens run as 8 blocks, one of 8 rows.
// They agree to float rounding, not bit for bit: BLAS sums a GEMM's products in an order that depends on
// the matrix shape, so a block's q·kᵀ and P·V differ from the whole pass's in the last bits (~1e-7
// relative), and later layers inherit that. (The metric kernel itself is split-invariant bit for bit:
// FusedHeadPass.BlocksOfRowsGiveTheWholePassBitForBit.)
TEST_P(BlockedAttention, EqualsOneBlockArrayByArray) {
  auto model = hm::Model::load(model_dir(GetParam()));
  const at::Tensor ids = random_ids(model->config(), 120, 7);
  for (const bool torch_path : {false, true}) {
    const std::string where = GetParam() + (torch_path ? " torch path" : " cpu kernel");
    const auto whole = measure(*model, ids, std::uint64_t{1} << 40, torch_path);
    const auto blocked = measure(*model, ids, 1, torch_path);
    ASSERT_EQ(whole.metrics.size(), blocked.metrics.size());
    for (std::size_t m = 0; m < whole.metrics.size(); ++m)
      expect_same(whole.metrics[m], blocked.metrics[m], where + " metric " + std::to_string(m));
    expect_same(whole.flow, blocked.flow, where + " flow");
    for (std::size_t p = 0; p < whole.pinned_attention.size(); ++p)
      expect_same(whole.pinned_attention[p], blocked.pinned_attention[p], where + " pinned " + std::to_string(p));
  }
}

INSTANTIATE_TEST_SUITE_P(HfReference, BlockedAttention, ::testing::Values("llama", "mistral-swa8", "qwen2", "gpt2"));

namespace {
// Takes the pattern in blocks and keeps them, to check the forward pass's side of the contract.
class BlockRecorder : public hm::ProbeObserver {
 public:
  bool wants(const hm::ProbeSite& site) override { return site.point == hm::ProbePoint::pattern; }
  void observe(const hm::ProbeSite& site, const at::Tensor& value) override { observe_pattern_block(site, value, 0); }
  bool takes_pattern_blocks() const override { return true; }
  void observe_pattern_block(const hm::ProbeSite& site, const at::Tensor& value, std::int64_t first_query) override {
    blocks[site.layer].push_back({first_query, value[0].clone()});
  }
  std::map<int, std::vector<std::pair<std::int64_t, at::Tensor>>> blocks;  // layer -> (first query, [head, rows, keys])
};
}  // namespace

// Each block has at most budget / (heads × keys × 4 bytes) rows (float32 run) and keys up to its last
// query; the blocks tile the queries in order; padded and stacked they are the one-block pattern; and the
// layer outputs are unchanged (to float rounding, see above), so later layers see the same attention.
TEST(BlockedAttention, BlocksTileTheQueriesWithinTheBudget) {
  auto model = hm::Model::load(model_dir("llama"));
  const auto& config = model->config();
  const int tokens = 100;
  const at::Tensor ids = random_ids(config, tokens, 3);
  BlockRecorder whole, blocked;
  hm::ForwardOptions options;
  options.logits = hm::LogitsMode::none;
  options.observer = &whole;
  options.attention_budget_bytes = std::uint64_t{1} << 40;
  const auto whole_hidden = model->forward(ids, nullptr, options).final_hidden;
  const std::uint64_t budget = static_cast<std::uint64_t>(config.head_count) * tokens * 4 * 30;  // 30 rows at the last keys
  options.observer = &blocked;
  options.attention_budget_bytes = budget;
  const auto blocked_hidden = model->forward(ids, nullptr, options).final_hidden;
  EXPECT_TRUE(at::allclose(whole_hidden, blocked_hidden, 1e-5, 1e-5))
      << (whole_hidden - blocked_hidden).abs().max().item<float>() << " at scale " << whole_hidden.abs().max().item<float>();
  ASSERT_EQ(blocked.blocks.size(), static_cast<std::size_t>(config.layer_count));
  for (const auto& [layer, parts] : blocked.blocks) {
    EXPECT_EQ(parts.size(), 4u) << "layer " << layer;  // ceil(100 / 30)
    std::int64_t next = 0;
    const at::Tensor reference = whole.blocks.at(layer).at(0).second;  // [head, query, key]
    for (const auto& [first, block] : parts) {
      EXPECT_EQ(first, next);
      const std::int64_t rows = block.size(1);
      EXPECT_LE(static_cast<std::uint64_t>(block.numel()) * 4, budget);
      EXPECT_EQ(block.size(2), first + rows);
      EXPECT_TRUE(at::allclose(block, reference.narrow(1, first, rows).narrow(2, 0, first + rows), 1e-5, 1e-6));
      EXPECT_EQ(at::count_nonzero(reference.narrow(1, first, rows).narrow(2, first + rows, tokens - first - rows)).item<std::int64_t>(), 0);
      next = first + rows;
    }
    EXPECT_EQ(next, tokens);
  }
}

namespace {
hm::ModelConfig llama_config(int layers, int heads, int max_positions) {
  hm::ModelConfig config;
  config.family = hm::Family::llama;
  config.layer_count = layers;
  config.head_count = heads;
  config.max_positions = max_positions;
  return config;
}
}  // namespace

// Positions past max_position_embeddings are refused unless the config's rope scaling covers them.
TEST(LongContext, PositionsPastTheRopeRangeAreRefused) {
  auto config = llama_config(2, 4, 128);
  const std::uint64_t plenty = std::uint64_t{1} << 40;
  EXPECT_NO_THROW(hc::check_sequence_length(config, 128, "p:1: ", plenty));
  EXPECT_THROW(hc::check_sequence_length(config, 129, "p:1: ", plenty), std::runtime_error);
  config.rope.scaling_type = "linear";
  config.rope.factor = 4;
  EXPECT_NO_THROW(hc::check_sequence_length(config, 512, "p:1: ", plenty));
  EXPECT_THROW(hc::check_sequence_length(config, 513, "p:1: ", plenty), std::runtime_error);
  config.rope.scaling_type = "llama3";
  config.rope.factor = 8;
  config.rope.original_max_positions = 32;
  config.max_positions = 256;  // the llama3-rope fixture: 32 × 8 = 256
  EXPECT_NO_THROW(hc::check_sequence_length(config, 256, "p:1: ", plenty));
  EXPECT_THROW(hc::check_sequence_length(config, 257, "p:1: ", plenty), std::runtime_error);
}

// Memory: the bound counts the per-sample arrays and one minimal block, not [heads, S, S]; a pinned head
// (its whole S × S matrix is kept) counts S² floats.
TEST(LongContext, MemoryBoundIsLinearInLengthWithoutPinnedHeads) {
  const auto config = llama_config(24, 14, 32768);  // Qwen2.5-0.5B's layers x heads
  const std::uint64_t four_gib = std::uint64_t{4} << 30;
  EXPECT_NO_THROW(hc::check_sequence_length(config, 32768, "p:1: ", four_gib));
  EXPECT_THROW(hc::check_sequence_length(config, 32768, "p:1: ", four_gib, 1), std::runtime_error);  // 4 GiB pinned
  EXPECT_NO_THROW(hc::check_sequence_length(config, 8192, "p:1: ", four_gib, 1));
}

// The capture session passes its memory budget to the forward pass: a whole capture in 16-row blocks
// stores the same arrays as the default (one block at this length), metric by metric, layer by layer.
TEST(LongContext, CaptureWithASmallBudgetStoresTheSameRun) {
  const auto dir = headscope::test::temp_dir();
  const auto prompts = (dir / "prompts.jsonl").string();
  {
    auto model = hm::Model::load(model_dir("qwen2"));
    const at::Tensor ids = random_ids(model->config(), 110, 11);
    std::ofstream out(prompts);
    out << "{\"id\": \"long\", \"ids\": [";
    for (int t = 0; t < ids.size(1); ++t) out << (t ? "," : "") << ids[0][t].item<std::int64_t>();
    out << "]}\n";
  }
  std::vector<std::unique_ptr<hs::StoreReader>> stores;
  for (const std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{1}}) {
    hc::CaptureSettings settings;
    settings.model_dir = model_dir("qwen2").string();
    settings.prompts_path = prompts;
    settings.out_path = (dir / ("budget" + std::to_string(budget) + ".h5")).string();
    settings.float32_metrics = true;
    settings.threads = 2;
    settings.attention_budget_bytes = budget;
    settings.pinned_heads = {{1, 1}};
    hc::CaptureSession session(settings);
    session.start();
    session.wait();
    stores.push_back(hs::StoreReader::open(settings.out_path));
  }
  const auto& layout = stores[0]->layout();
  for (const auto& metric : layout.metrics)
    for (int layer = 0; layer < layout.layer_count; ++layer)
      expect_same(stores[0]->layer_slice(metric.name, 0, layer), stores[1]->layer_slice(metric.name, 0, layer),
                  metric.name + " layer " + std::to_string(layer));
  expect_same(stores[0]->flow(0), stores[1]->flow(0), "flow");
  expect_same(*stores[0]->pinned_attention(0, {1, 1}), *stores[1]->pinned_attention(0, {1, 1}), "pinned");
}

// A capture whose samples are long chunks its metrics for them (one head's trace in one or two chunk
// reads); a run of short samples keeps the default. The fixture's config is copied with a longer
// max_position_embeddings so that 2,100 tokens are covered.
TEST(LongContext, CaptureOfLongSamplesChunksForThem) {
  const auto dir = headscope::test::temp_dir();
  const auto long_model = dir / "qwen2-long";
  std::filesystem::create_directories(long_model);
  for (const auto& entry : std::filesystem::directory_iterator(model_dir("qwen2")))
    if (entry.path().extension() == ".safetensors") std::filesystem::copy(entry.path(), long_model / entry.path().filename());
  {
    std::ifstream in(model_dir("qwen2") / "config.json");
    std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = config.find("\"max_position_embeddings\": 128");
    ASSERT_NE(at, std::string::npos);
    config.replace(at, std::string("\"max_position_embeddings\": 128").size(), "\"max_position_embeddings\": 4096");
    std::ofstream(long_model / "config.json") << config;
  }
  auto model = hm::Model::load(long_model);
  for (const int tokens : {100, 2100}) {
    const auto prompts = (dir / ("prompts" + std::to_string(tokens) + ".jsonl")).string();
    {
      const at::Tensor ids = random_ids(model->config(), tokens, 5);
      std::ofstream out(prompts);
      out << "{\"id\": \"s\", \"ids\": [";
      for (int t = 0; t < tokens; ++t) out << (t ? "," : "") << ids[0][t].item<std::int64_t>();
      out << "]}\n";
    }
    hc::CaptureSettings settings;
    settings.model_dir = long_model.string();
    settings.prompts_path = prompts;
    settings.out_path = (dir / ("run" + std::to_string(tokens) + ".h5")).string();
    settings.threads = 2;
    hc::CaptureSession session(settings);
    session.start();
    session.wait();
    const auto reader = hs::StoreReader::open(settings.out_path);
    EXPECT_EQ(reader->layout().chunk_tokens, tokens > 2048 ? 4096 : 256) << tokens << " tokens";
    EXPECT_EQ(reader->head_trace("entropy", 0, {1, 2}).size(), static_cast<std::size_t>(tokens));
  }
}
