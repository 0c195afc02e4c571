// The explicit attention's softmax on the CPU, fused into one pass over each score row: raw scores q·kᵀ in
// the run dtype (float32 or bfloat16) are divided by the score divisor (times a key scale when a sweep
// scales a head's keys), masked causally (and by a sliding window), and softmaxed in float32, writing the
// probabilities in float32 (masked keys exactly 0) and, for bfloat16 runs, rounded to bfloat16 for the
// P·V product. Masked keys are never exponentiated, so a causal row costs half a full one. Torch-free.
#pragma once
#include <cstdint>

namespace headscope::model {

enum class ScoreType { float32, bfloat16 };

struct SoftmaxRow {
  const void* scores = nullptr;        // [key] raw q·kᵀ of `type`; may be `probs` itself (float32, in place)
  ScoreType type = ScoreType::float32;
  std::int64_t key_count = 0;
  std::int64_t first_visible = 0;      // keys first_visible..last_visible (inclusive) are unmasked
  std::int64_t last_visible = 0;
  float divisor = 1.0f;                // scores / divisor (√head_dim), as HF divides
  float key_scale = 1.0f;              // then times this (1: no key intervention)
  float* probs = nullptr;              // [key] float32 out
  std::uint16_t* probs_bf16 = nullptr; // [key] bfloat16 bits out (round to nearest even), or null
};

void masked_softmax_row(const SoftmaxRow& row);

// e^x with Cephes expf's range reduction and polynomial (relative error about 1e-7; 0 below -87.3).
float fast_exp(float x);

}  // namespace headscope::model
