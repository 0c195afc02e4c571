// IEEE 754 binary16 <-> binary32 conversion for the store's float16 metric arrays (round to nearest
// even, NaN and infinities kept). Done here so HDF5 writes and reads raw 16-bit words without its slow
// soft conversion path.
#pragma once
#include <cstdint>
#include <cstring>

namespace headscope {

inline std::uint16_t float_to_half(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t exponent = (bits >> 23) & 0xffu;
  std::uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff) return static_cast<std::uint16_t>(sign | 0x7c00u | (mantissa ? 0x200u : 0u));
  const int half_exponent = static_cast<int>(exponent) - 127 + 15;
  if (half_exponent >= 0x1f) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (half_exponent <= 0) {                                                     // subnormal or zero
    if (half_exponent < -10) return static_cast<std::uint16_t>(sign);
    mantissa |= 0x800000u;
    const int shift = 14 - half_exponent;
    std::uint32_t half_mantissa = mantissa >> shift;
    const std::uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half_mantissa & 1u))) ++half_mantissa;
    return static_cast<std::uint16_t>(sign | half_mantissa);
  }
  std::uint32_t half = sign | (static_cast<std::uint32_t>(half_exponent) << 10) | (mantissa >> 13);
  const std::uint32_t remainder = mantissa & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;  // may carry into exponent: fine
  return static_cast<std::uint16_t>(half);
}

inline float half_to_float(std::uint16_t half) {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1fu;
  std::uint32_t mantissa = half & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { ++e; mantissa <<= 1; } while (!(mantissa & 0x400u));
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// Rounds a binary16 value to its `bits` highest mantissa bits (0..10), to nearest with ties to even: the
// store's opt-in lossy precision, which leaves the low bits zero so that shuffle + deflate compress them
// away. NaN and infinities are kept; a value that would round up to infinity is truncated instead.
inline std::uint16_t round_half_mantissa(std::uint16_t half, int bits) {
  if (bits >= 10 || (half & 0x7c00u) == 0x7c00u) return half;
  const unsigned drop = static_cast<unsigned>(10 - (bits < 0 ? 0 : bits));
  const std::uint32_t mask = (1u << drop) - 1u;
  const std::uint32_t keep_lowest = (half >> drop) & 1u;
  const std::uint32_t rounded = (static_cast<std::uint32_t>(half) + (mask >> 1) + keep_lowest) & ~mask;
  if ((rounded & 0x7c00u) == 0x7c00u) return static_cast<std::uint16_t>(half & ~mask);
  return static_cast<std::uint16_t>(rounded);
}

// The same for binary32 (bits 0..23).
inline float round_float_mantissa(float value, int bits) {
  if (bits >= 23) return value;
  std::uint32_t word;
  std::memcpy(&word, &value, 4);
  if ((word & 0x7f800000u) == 0x7f800000u) return value;
  const unsigned drop = static_cast<unsigned>(23 - (bits < 0 ? 0 : bits));
  const std::uint32_t mask = (1u << drop) - 1u;
  std::uint32_t rounded = (word + (mask >> 1) + ((word >> drop) & 1u)) & ~mask;
  if ((rounded & 0x7f800000u) == 0x7f800000u) rounded = word & ~mask;
  float result;
  std::memcpy(&result, &rounded, 4);
  return result;
}

}  // namespace headscope
