// AttentionRecomputer::head_attention_tile (issue 16): any block of any head, served from one cached
// forward pass's queries and keys, equals the same entries of head_attention() — on GQA (Llama, Qwen2),
// GPT-2 (no RoPE, scale by layer), Mistral with a sliding window of 8, and a latent-loop sample.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "capture/session/recompute.h"
#include "test_support.h"

namespace hc = headscope::capture;
namespace hs = headscope::store;

namespace {

std::vector<std::int32_t> sample_tokens(int count, int latent_steps = 0) {
  std::vector<std::int32_t> tokens;
  for (int t = 0; t < count; ++t) tokens.push_back(3 + (t * 7 + t / 5) % 60);
  for (int s = 0; s < latent_steps; ++s) tokens.push_back(-1);
  return tokens;
}

// Every head's tiles (strided rows, a key range inside and one past the diagonal) against the full matrix.
void expect_tiles_equal_full(const std::string& model, const std::vector<std::int32_t>& tokens) {
  hc::AttentionRecomputer recompute((headscope::test::fixtures_dir() / "hf-reference" / model).string(), "cpu", "auto", 1);
  const int n = static_cast<int>(tokens.size());
  const std::vector<int> rows = {0, 3, 9, n / 2, n - 2, n - 1};
  const std::pair<int, int> key_ranges[] = {{0, n}, {2, 11}, {n - 5, n}};
  for (int layer = 0; layer < recompute.layer_count(); ++layer)
    for (int head = 0; head < recompute.head_count(); ++head) {
      const auto full = recompute.head_attention(tokens, {layer, head});
      for (const auto& [begin, end] : key_ranges) {
        const auto tile = recompute.head_attention_tile(tokens, {layer, head}, rows, begin, end);
        EXPECT_TRUE(recompute.has_cached_sequence(tokens));
        ASSERT_EQ(tile.size(), rows.size() * static_cast<std::size_t>(end - begin));
        for (std::size_t r = 0; r < rows.size(); ++r)
          for (int k = begin; k < end; ++k)
            ASSERT_NEAR(tile[r * (end - begin) + (k - begin)], full[std::size_t(rows[r]) * n + k], 2e-6)
                << model << " L" << layer << "H" << head << " row " << rows[r] << " key " << k;
      }
    }
}

}  // namespace

TEST(RecomputeTiles, EqualTheFullMatrixOnGqaModels) {
  expect_tiles_equal_full("llama", sample_tokens(40));
  expect_tiles_equal_full("qwen2", sample_tokens(40));
}

TEST(RecomputeTiles, EqualTheFullMatrixOnGpt2) { expect_tiles_equal_full("gpt2", sample_tokens(40)); }

TEST(RecomputeTiles, EqualTheFullMatrixWithASlidingWindow) { expect_tiles_equal_full("mistral-swa8", sample_tokens(40)); }

TEST(RecomputeTiles, EqualTheFullMatrixOnALatentSample) { expect_tiles_equal_full("llama", sample_tokens(20, 6)); }

TEST(RecomputeTiles, ANewSequenceReplacesTheCacheAndBadRequestsThrow) {
  hc::AttentionRecomputer recompute((headscope::test::fixtures_dir() / "hf-reference" / "llama").string(), "cpu", "auto", 1);
  const auto a = sample_tokens(12), b = sample_tokens(13);
  recompute.head_attention_tile(a, {0, 0}, {5}, 0, 12);
  EXPECT_TRUE(recompute.has_cached_sequence(a));
  const auto tile = recompute.head_attention_tile(b, {1, 3}, {12}, 0, 13);
  EXPECT_FALSE(recompute.has_cached_sequence(a));
  EXPECT_TRUE(recompute.has_cached_sequence(b));
  double sum = 0;
  for (float v : tile) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-5);  // the last row over every key sums to 1
  EXPECT_THROW(recompute.head_attention_tile(b, {0, 0}, {13}, 0, 13), std::runtime_error);
  EXPECT_THROW(recompute.head_attention_tile(b, {0, 0}, {0}, 5, 14), std::runtime_error);
  EXPECT_THROW(recompute.head_attention_tile(b, {4, 0}, {0}, 0, 1), std::runtime_error);
}
