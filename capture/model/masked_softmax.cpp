// masked_softmax.h: one row of the fused scale + mask + float32 softmax. Vector code uses GCC vector
// extensions on 8 lanes (two SSE registers in the baseline clone, one AVX2 register in the x86-64-v3 one).
#include "capture/model/masked_softmax.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/analysis/ib/simd.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // 32-byte vectors in static helpers: no ABI crosses this file

namespace headscope::model {
namespace {

using Float8 = analysis::ib::simd::Float8;
typedef std::int32_t Int8 __attribute__((vector_size(32)));

constexpr float kExpHigh = 88.3762626647949f, kExpLow = -87.3365447504f;  // below: e^x < FLT_MIN, returns 0
constexpr float kLog2e = 1.44269504088896341f, kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

inline Float8 fast_exp8(Float8 x) {
  const Int8 underflow = x < kExpLow;
  x = x > kExpHigh ? Float8{} + kExpHigh : x;
  x = x < kExpLow ? Float8{} + kExpLow : x;
  const Float8 scaled = x * kLog2e + 0.5f;
  Int8 n = __builtin_convertvector(scaled, Int8);  // truncates toward 0: floor for positives
  n += __builtin_convertvector(n, Float8) > scaled;  // lanes where truncation rounded up: -1 makes it floor
  const Float8 nf = __builtin_convertvector(n, Float8);
  x = x - nf * kLn2High - nf * kLn2Low;
  const Float8 z = x * x;
  Float8 y = x * kP0 + kP1;
  y = y * x + kP2;
  y = y * x + kP3;
  y = y * x + kP4;
  y = y * x + kP5;
  y = y * z + x + 1.0f;
  const Int8 power = (n + 127) << 23;
  Float8 two_n;
  std::memcpy(&two_n, &power, sizeof two_n);
  const Float8 result = y * two_n;
  Int8 bits;
  std::memcpy(&bits, &result, sizeof bits);
  bits &= ~underflow;
  Float8 out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

inline float bf16_to_float(std::uint16_t bits) {
  const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

inline std::uint16_t float_to_bf16(float value) {  // round to nearest even; probabilities are never NaN
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

}  // namespace

float fast_exp(float x) {
  Float8 lanes{};
  lanes[0] = x;
  return fast_exp8(lanes)[0];
}

HEADSCOPE_KERNEL_CLONES
void masked_softmax_row(const SoftmaxRow& row) {
  float* probs = row.probs;
  const std::int64_t begin = row.first_visible, end = row.last_visible + 1;
  const bool scaled = row.key_scale != 1.0f;
  // 1. Scale the visible scores into probs (in place when they are already there) and find their max.
  float max = -std::numeric_limits<float>::infinity();
  if (row.type == ScoreType::bfloat16) {
    const auto* scores = static_cast<const std::uint16_t*>(row.scores);
    for (std::int64_t j = begin; j < end; ++j) {
      float x = bf16_to_float(scores[j]) / row.divisor;
      if (scaled) x *= row.key_scale;
      probs[j] = x;
      max = std::max(max, x);
    }
  } else {
    const auto* scores = static_cast<const float*>(row.scores);
    for (std::int64_t j = begin; j < end; ++j) {
      float x = scores[j] / row.divisor;
      if (scaled) x *= row.key_scale;
      probs[j] = x;
      max = std::max(max, x);
    }
  }
  // 2. Exponentiate and sum, 8 lanes at a time.
  Float8 sums{};
  std::int64_t j = begin;
  for (; j + 8 <= end; j += 8) {
    Float8 x;
    std::memcpy(&x, probs + j, sizeof x);  // rows are only float-aligned: memcpy compiles to unaligned moves
    const Float8 e = fast_exp8(x - max);
    std::memcpy(probs + j, &e, sizeof e);
    sums += e;
  }
  float sum = 0.0f;
  for (int lane = 0; lane < 8; ++lane) sum += sums[lane];
  for (; j < end; ++j) {
    probs[j] = fast_exp(probs[j] - max);
    sum += probs[j];
  }
  // 3. Normalise, zero the masked keys, round for P·V.
  const float inverse = 1.0f / sum;
  for (j = begin; j < end; ++j) probs[j] *= inverse;
  std::fill(probs, probs + begin, 0.0f);
  std::fill(probs + end, probs + row.key_count, 0.0f);
  if (row.probs_bf16)
    for (j = 0; j < row.key_count; ++j) row.probs_bf16[j] = float_to_bf16(probs[j]);
}

}  // namespace headscope::model
