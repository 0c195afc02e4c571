// Small SIMD helpers shared by the IB kernels (k-means dot tiles, the soft-IB iteration): GCC vector
// types, the AVX2/baseline function clones picked at load time on x86-64, and an exp() for 4 doubles.
// Vector code is written with GCC vector extensions, so it builds (as SSE2 pairs) on any x86-64 and
// elsewhere GCC or Clang runs.
#pragma once
#include <cstdint>
#include <cstring>

// On x86-64 GCC, compile a kernel twice (AVX2 and baseline) and pick one at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HEADSCOPE_KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HEADSCOPE_KERNEL_CLONES
#endif

namespace headscope::analysis::ib::simd {

typedef float Float8 __attribute__((vector_size(32)));  // 8 lanes; two SSE registers without AVX
// The same, readable at any float address (unaligned, may alias float).
typedef float Float8Unaligned __attribute__((vector_size(32), aligned(4), may_alias));
typedef double Double4 __attribute__((vector_size(32)));
typedef double Double4Unaligned __attribute__((vector_size(32), aligned(8), may_alias));
typedef std::int64_t Int4 __attribute__((vector_size(32)));

// Loads, stores and broadcasts are macros, not functions: a function returning a 32-byte vector gets
// GCC's -Wpsabi warning in the baseline (non-AVX) clones.
#define HEADSCOPE_LOAD8(p) (*reinterpret_cast<const ::headscope::analysis::ib::simd::Float8Unaligned*>(p))
#define HEADSCOPE_LOAD4(p) (*reinterpret_cast<const ::headscope::analysis::ib::simd::Double4Unaligned*>(p))
#define HEADSCOPE_STORE4(p, v) (*reinterpret_cast<::headscope::analysis::ib::simd::Double4Unaligned*>(p) = (v))
#define HEADSCOPE_SPLAT4(v) (::headscope::analysis::ib::simd::Double4{} + static_cast<double>(v))

// x ← e^x for x ≤ 0 in each lane (in place, for the reason above), within about 1 ulp of the correctly
// rounded value; −inf and anything below −745.2 (where e^x rounds to zero in double) give exactly 0, and
// results in the subnormal range are scaled in two steps so that they round once. Cody-Waite reduction
// x = n·ln2 + r with |r| ≤ ln2/2, then the Taylor series of e^r to degree 13 (truncation < 1e-17).
inline __attribute__((always_inline)) void exp_nonpositive(Double4& x) {
  const Double4 shifter = HEADSCOPE_SPLAT4(0x1.8p52);  // adding it rounds to an integer, kept in the low bits
  const auto underflow = x < HEADSCOPE_SPLAT4(-745.2);  // lanes of all ones where true
  x = x < HEADSCOPE_SPLAT4(-746.0) ? HEADSCOPE_SPLAT4(-746.0) : x;  // keeps n small and −inf out
  const Double4 shifted = x * HEADSCOPE_SPLAT4(1.4426950408889634) + shifter;  // x·log2(e) rounded
  const Double4 n = shifted - shifter;
  const Double4 ln2_high = HEADSCOPE_SPLAT4(6.93147180369123816490e-01);  // n·ln2_high is exact
  const Double4 ln2_low = HEADSCOPE_SPLAT4(1.90821492927058770002e-10);
  const Double4 r = (x - n * ln2_high) - n * ln2_low;
  constexpr double kInverseFactorials[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                           1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,      1.0 / 720.0,
                                           1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,         0.5,
                                           1.0,                1.0};  // 1/13! … 1/0!
  Double4 p = HEADSCOPE_SPLAT4(kInverseFactorials[0]);
#pragma GCC unroll 14
  for (int k = 1; k < 14; ++k) p = p * r + HEADSCOPE_SPLAT4(kInverseFactorials[k]);
  // 2^n as two factors 2^(n/2)·2^(n−n/2), each a normal double for n ≥ −1076.
  Int4 whole, shifter_bits;
  std::memcpy(&whole, &shifted, sizeof whole);
  std::memcpy(&shifter_bits, &shifter, sizeof shifter_bits);
  whole -= shifter_bits;  // n as an integer
  const Int4 half = whole / 2;
  const Int4 first_bits = (half + 1023) << 52, second_bits = (whole - half + 1023) << 52;
  Double4 first, second;
  std::memcpy(&first, &first_bits, sizeof first);
  std::memcpy(&second, &second_bits, sizeof second);
  const Double4 result = p * first * second;
  x = underflow ? HEADSCOPE_SPLAT4(0.0) : result;
}

}  // namespace headscope::analysis::ib::simd

