// A branch-free natural logarithm for float, used by the per-row attention metrics so that loops over
// keys auto-vectorise at -O2. Same range reduction and polynomial as Cephes logf (relative error about
// 1e-7 for normal inputs). fast_log(0) and denormal inputs return a large finite negative number rather
// than -inf, so `p * fast_log(p)` is exactly 0 for p = 0 without a branch. Internal to core/analysis.
#pragma once
#include <cstdint>
#include <cstring>

namespace headscope::analysis::detail {

inline float fast_log(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int exponent = static_cast<int>((bits >> 23) & 0xffu) - 127;
  const std::uint32_t mantissa_bits = (bits & 0x007fffffu) | 0x3f800000u;  // mantissa in [1, 2)
  float mantissa;
  std::memcpy(&mantissa, &mantissa_bits, sizeof mantissa);
  // Reduce to [sqrt(1/2), sqrt(2)) so that the polynomial argument stays small around 1.
  const bool above_sqrt2 = mantissa > 1.41421356f;
  mantissa = above_sqrt2 ? mantissa * 0.5f : mantissa;
  exponent += above_sqrt2 ? 1 : 0;
  const float f = mantissa - 1.0f;  // exact (Sterbenz), in [-0.293, 0.414)
  const float f2 = f * f;
  float poly = 7.0376836292e-2f;
  poly = poly * f - 1.1514610310e-1f;
  poly = poly * f + 1.1676998740e-1f;
  poly = poly * f - 1.2420140846e-1f;
  poly = poly * f + 1.4249322787e-1f;
  poly = poly * f - 1.6668057665e-1f;
  poly = poly * f + 2.0000714765e-1f;
  poly = poly * f - 2.4999993993e-1f;
  poly = poly * f + 3.3333331174e-1f;
  const float e = static_cast<float>(exponent);
  float result = poly * f * f2;
  result += -2.12194440e-4f * e;  // ln 2 split into two parts for accuracy
  result += -0.5f * f2;
  result += f;
  result += 0.693359375f * e;
  return result;
}

}  // namespace headscope::analysis::detail

// ---- Four lanes at once, with GCC/Clang vector extensions (SSE2 on x86-64, NEON on arm64) ----------
namespace headscope::analysis::detail {

typedef float Float4 __attribute__((vector_size(16)));
typedef std::int32_t Int4 __attribute__((vector_size(16)));
typedef double Double2 __attribute__((vector_size(16)));

inline Float4 load_float4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline Int4 float4_bits(Float4 v) {
  Int4 bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

inline Float4 bits_float4(Int4 bits) {
  Float4 v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// fast_log on four lanes: the same operations, lane for lane, as the scalar version.
inline Float4 fast_log4(Float4 x) {
  const Int4 bits = float4_bits(x);
  Int4 exponent = ((bits >> 23) & 0xff) - 127;
  Float4 mantissa = bits_float4((bits & 0x007fffff) | 0x3f800000);
  const Int4 above_sqrt2 = mantissa > 1.41421356f;  // lanes: -1 where true, 0 where false
  mantissa = bits_float4((float4_bits(mantissa * 0.5f) & above_sqrt2) | (float4_bits(mantissa) & ~above_sqrt2));
  exponent -= above_sqrt2;
  const Float4 f = mantissa - 1.0f;
  const Float4 f2 = f * f;
  Float4 poly = f * 7.0376836292e-2f - 1.1514610310e-1f;
  poly = poly * f + 1.1676998740e-1f;
  poly = poly * f - 1.2420140846e-1f;
  poly = poly * f + 1.4249322787e-1f;
  poly = poly * f - 1.6668057665e-1f;
  poly = poly * f + 2.0000714765e-1f;
  poly = poly * f - 2.4999993993e-1f;
  poly = poly * f + 3.3333331174e-1f;
  const Float4 e = __builtin_convertvector(exponent, Float4);
  Float4 result = poly * f * f2;
  result += -2.12194440e-4f * e;
  result += -0.5f * f2;
  result += f;
  result += 0.693359375f * e;
  return result;
}

}  // namespace headscope::analysis::detail
