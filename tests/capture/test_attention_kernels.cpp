// The fused CPU attention softmax (capture/model/masked_softmax.h) against torch ops computing the same
// thing the unfused way (scores / divisor * key scale, masked_fill -inf, at::softmax in float32), for
// float32 and bfloat16 scores, causal and sliding-window masks, queries that continue a cache, and key
// scales. Tolerance: 5e-7 relative to each probability, a few float32 ulps (fast_exp's relative error is
// ~1e-7, and torch's exp and sum round differently); the bfloat16 copy must equal torch's rounding of our
// float32 probabilities exactly.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "capture/model/masked_softmax.h"

namespace hm = headscope::model;

namespace {

// Reference: rows [query, key] of scores for queries at positions first..first+query-1.
at::Tensor reference_softmax(const at::Tensor& scores, std::int64_t first, int window, float divisor, float key_scale) {
  const auto queries = scores.size(0), keys = scores.size(1);
  auto q = at::arange(first, first + queries, at::kLong).unsqueeze(1);
  auto k = at::arange(0, keys, at::kLong).unsqueeze(0);
  auto blocked = k > q;
  if (window > 0) blocked = blocked.logical_or(k <= q - window);
  auto x = scores.to(at::kFloat) / divisor * key_scale;
  return at::softmax(x.masked_fill(blocked, -std::numeric_limits<float>::infinity()), -1);
}

at::Tensor fused_softmax(const at::Tensor& scores, std::int64_t first, int window, float divisor, float key_scale,
                         at::Tensor* bf16_out = nullptr) {
  const auto queries = scores.size(0), keys = scores.size(1);
  auto probs = at::empty({queries, keys}, at::kFloat);
  at::Tensor bf16 = at::empty({queries, keys}, at::kBFloat16);
  for (std::int64_t i = 0; i < queries; ++i) {
    hm::SoftmaxRow row;
    row.type = scores.scalar_type() == at::kBFloat16 ? hm::ScoreType::bfloat16 : hm::ScoreType::float32;
    row.scores = static_cast<const std::uint8_t*>(scores.data_ptr()) + i * keys * scores.element_size();
    row.key_count = keys;
    row.last_visible = std::min(first + i, keys - 1);
    row.first_visible = window > 0 ? std::max<std::int64_t>(0, first + i - window + 1) : 0;
    row.divisor = divisor;
    row.key_scale = key_scale;
    row.probs = probs.data_ptr<float>() + i * keys;
    row.probs_bf16 = reinterpret_cast<std::uint16_t*>(bf16.data_ptr()) + i * keys;
    hm::masked_softmax_row(row);
  }
  if (bf16_out) *bf16_out = bf16;
  return probs;
}

struct Case {
  at::ScalarType dtype;
  std::int64_t queries, keys, first;
  int window;
  float key_scale;
};

}  // namespace

TEST(MaskedSoftmax, MatchesTorchOps) {
  at::manual_seed(3);
  for (const Case& c : {Case{at::kFloat, 37, 37, 0, 0, 1.0f}, Case{at::kFloat, 1, 300, 299, 0, 1.0f},
                        Case{at::kFloat, 64, 100, 36, 8, 1.0f}, Case{at::kBFloat16, 50, 50, 0, 0, 1.0f},
                        Case{at::kBFloat16, 20, 90, 70, 16, 1.5f}, Case{at::kFloat, 33, 33, 0, 0, 0.25f}}) {
    const auto scores = (at::randn({c.queries, c.keys}) * 40.0).to(c.dtype);
    at::Tensor bf16;
    const auto fused = fused_softmax(scores, c.first, c.window, 8.0f, c.key_scale, &bf16);
    const auto expected = reference_softmax(scores, c.first, c.window, 8.0f, c.key_scale);
    const auto relative = (fused - expected).abs() / expected.clamp_min(1e-30);
    EXPECT_LE(relative.masked_select(expected > 0).max().item<float>(), 5e-7f) << "queries " << c.queries << " keys " << c.keys;
    // Masked keys are exactly 0 and every row sums to 1.
    EXPECT_EQ(fused.masked_select(expected == 0).abs().sum().item<float>(), 0.0f);
    EXPECT_LE((fused.sum(-1) - 1).abs().max().item<float>(), 1e-6f);
    EXPECT_TRUE(at::equal(bf16, fused.to(at::kBFloat16)));
  }
}

TEST(MaskedSoftmax, InPlaceOnFloat32Scores) {
  at::manual_seed(4);
  auto scores = at::randn({16, 16}) * 10.0;
  const auto expected = reference_softmax(scores, 0, 0, 1.0f, 1.0f);
  for (std::int64_t i = 0; i < 16; ++i) {
    hm::SoftmaxRow row;
    row.scores = scores.data_ptr<float>() + i * 16;
    row.key_count = 16;
    row.last_visible = i;
    row.probs = scores.data_ptr<float>() + i * 16;
    hm::masked_softmax_row(row);
  }
  EXPECT_LE(((scores - expected).abs() / expected.clamp_min(1e-30)).masked_select(expected > 0).max().item<float>(), 5e-7f);
}

TEST(MaskedSoftmax, FastExpRelativeError) {
  double worst = 0;
  for (float x = -87.0f; x <= 0.0f; x += 0.0137f) {
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(hm::fast_exp(x) - exact) / exact);
  }
  EXPECT_LE(worst, 3e-7);
  EXPECT_EQ(hm::fast_exp(-200.0f), 0.0f);
  EXPECT_EQ(hm::fast_exp(0.0f), 1.0f);
}
