// Per-token attention metrics (METRICS.md, "Per-token metrics of one head"). The hot path is one
// 8-lane pass per row (mass, max, sum p ln p, sum p^2 with a branch-free float log, auto-vectorised at
// -O2), then one scalar pass that counts connectivity and keeps the k90 candidates, then an exact k90
// selection on those candidates (small sort, or a value histogram plus a sort of one bucket).
//
// Sections: 1. row kernels  2. exact k90  3. JSD kernels  4. single-row API  5. fused head pass
#include "core/analysis/attention_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/analysis/fast_log.h"

namespace headscope::analysis {
namespace {

using detail::bits_float4;
using detail::Double2;
using detail::fast_log;
using detail::fast_log4;
using detail::Float4;
using detail::float4_bits;
using detail::Int4;
using detail::load_float4;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kLanes = 8;

// ---- 1. Row kernels ------------------------------------------------------------------------------

struct RowSums {
  double mass = 0;       // sum p (double: k90's 1e-9 tolerance needs it)
  float max_value = 0;   // max p
  float p_log_p = 0;     // sum p ln p
  float sum_squares = 0; // sum p^2
};

Float4 max4(Float4 a, Float4 b) {
  const Int4 a_larger = a > b;
  return bits_float4((float4_bits(a) & a_larger) | (float4_bits(b) & ~a_larger));
}

// Four-lane pass (two vectors per step for instruction-level parallelism); mass in double lanes.
RowSums sum_row(const float* p, int n) {
  Double2 mass[4] = {};
  Float4 max_value[2] = {}, p_log_p[2] = {}, sum_squares[2] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int half = 0; half < 2; ++half) {
      const Float4 v = load_float4(p + i + 4 * half);
      mass[2 * half] += __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1), Double2);
      mass[2 * half + 1] += __builtin_convertvector(__builtin_shufflevector(v, v, 2, 3), Double2);
      max_value[half] = max4(v, max_value[half]);
      p_log_p[half] += v * fast_log4(v);
      sum_squares[half] += v * v;
    }
  }
  RowSums sums;
  float max_scalar = 0, p_log_p_scalar = 0, sum_squares_scalar = 0;
  for (; i < n; ++i) {
    const float v = p[i];
    sums.mass += v;
    max_scalar = std::max(max_scalar, v);
    p_log_p_scalar += v * fast_log(v);
    sum_squares_scalar += v * v;
  }
  for (const Double2& m : mass) sums.mass += m[0] + m[1];
  const Float4 max_all = max4(max_value[0], max_value[1]);
  const Float4 p_log_p_all = p_log_p[0] + p_log_p[1], sum_squares_all = sum_squares[0] + sum_squares[1];
  sums.max_value = max_scalar;
  sums.p_log_p = p_log_p_scalar;
  sums.sum_squares = sum_squares_scalar;
  for (int lane = 0; lane < 4; ++lane) {
    sums.max_value = std::max(sums.max_value, max_all[lane]);
    sums.p_log_p += p_log_p_all[lane];
    sums.sum_squares += sum_squares_all[lane];
  }
  return sums;
}

// H = -sum p~ ln p~ = ln S - (sum p ln p) / S, clamped to [+0, ln n] (never -0.0).
double entropy_from_sums(const RowSums& sums, int n) {
  if (n == 0 || !(sums.mass > 0)) return kNaN;
  if (n == 1) return 0.0;
  const double h = std::log(sums.mass) - static_cast<double>(sums.p_log_p) / sums.mass;
  const double h_max = std::log(static_cast<double>(n));
  return h > 0 ? std::min(h, h_max) : 0.0;
}

std::uint32_t float_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// ---- 2. Exact k90 --------------------------------------------------------------------------------
// k90 = min{k >= 1 : sum of the k largest p >= (tau - 1e-9) * S}. Keys below cutoff = (1 - tau) S / n
// carry less than (1 - tau) S together, so the answer lies among the keys >= cutoff ("candidates").
// Few candidates: sort them. Many: histogram them by value (bucket = float bits below the max's bits, 8
// buckets per octave; monotone in value, so equal values share a bucket), find the bucket where the
// cumulative mass crosses the target, and sort only that bucket. The result equals the sort reference;
// the two only sum in a different order (differences ~1e-16 relative, far below the 1e-9 tolerance).

constexpr int kSortCandidatesUpTo = 48;
constexpr int kBucketShift = 20;  // keep 3 mantissa bits: 8 buckets per octave
constexpr int kMaxBuckets = 320;  // 40 octaves below the max; smaller values share the last bucket

int k90_of_sorted(const float* sorted_desc, int count, double target, double already, int before) {
  double cumulative = already;
  for (int i = 0; i < count; ++i) {
    cumulative += sorted_desc[i];
    if (cumulative >= target) return before + i + 1;
  }
  return -1;
}

// `scratch` holds at least 2 * n floats.
int k90_exact(const float* p, int n, double mass, float max_value, double tau, float* scratch) {
  if (n == 0 || !(mass > 0)) return 0;
  const double target = (tau - kK90Tolerance) * mass;
  if (target <= 0) return 1;
  const double slack = 1.0 - 1e-6;  // keeps the cutoff safely below (1 - tau) S / n after rounding
  const float cutoff = tau >= 1.0 ? 0.0f : static_cast<float>((1.0 - tau) * mass / n * slack);
  float* candidates = scratch;
  int candidate_count = 0;
  for (int i = 0; i < n; ++i) {
    const float v = p[i];
    candidates[candidate_count] = v;
    candidate_count += v >= cutoff ? 1 : 0;
  }
  float* bucket_values = scratch + n;
  if (candidate_count <= kSortCandidatesUpTo) {
    std::sort(candidates, candidates + candidate_count, std::greater<float>());
    const int k = k90_of_sorted(candidates, candidate_count, target, 0.0, 0);
    return k > 0 ? k : n;  // unreachable in exact arithmetic: candidates hold > tau S
  }
  const std::uint32_t max_bits = float_bits(max_value);
  const std::uint32_t cutoff_bits = float_bits(cutoff);
  const std::uint32_t span = max_bits >= cutoff_bits ? (max_bits - cutoff_bits) >> kBucketShift : 0;
  const int bucket_count = static_cast<int>(std::min<std::uint32_t>(span + 1, kMaxBuckets));
  int counts[kMaxBuckets];
  double sums[kMaxBuckets];
  std::fill(counts, counts + bucket_count, 0);
  std::fill(sums, sums + bucket_count, 0.0);
  const auto bucket_of = [&](float v) {
    const std::uint32_t b = (max_bits - float_bits(v)) >> kBucketShift;
    return static_cast<int>(std::min<std::uint32_t>(b, static_cast<std::uint32_t>(bucket_count - 1)));
  };
  for (int i = 0; i < candidate_count; ++i) {
    const int b = bucket_of(candidates[i]);
    counts[b] += 1;
    sums[b] += candidates[i];
  }
  double prefix = 0;
  int before = 0;
  for (int b = 0; b < bucket_count; ++b) {
    if (prefix + sums[b] >= target) {
      int in_bucket = 0;
      for (int i = 0; i < candidate_count; ++i) {
        bucket_values[in_bucket] = candidates[i];
        in_bucket += bucket_of(candidates[i]) == b ? 1 : 0;
      }
      std::sort(bucket_values, bucket_values + in_bucket, std::greater<float>());
      const int k = k90_of_sorted(bucket_values, in_bucket, target, prefix, before);
      return k > 0 ? k : before + counts[b];
    }
    prefix += sums[b];
    before += counts[b];
  }
  return candidate_count;  // rounding left the total a hair below the target: every candidate is needed
}

// ---- 3. JSD kernels ------------------------------------------------------------------------------
// On the overlap of the two supports: sum P ln(2P/(P+Q)) + Q ln(2Q/(P+Q)); mass of one row outside the
// other's support contributes mass * ln 2 (its M is half of it). JSD = half the total.

inline Float4 load4_as_float(const float* p) { return load_float4(p); }
inline Float4 load4_as_float(const double* p) {
  return Float4{static_cast<float>(p[0]), static_cast<float>(p[1]), static_cast<float>(p[2]), static_cast<float>(p[3])};
}

// Lane for lane the same arithmetic as the scalar `term` below (fast_log4 is fast_log on four lanes), in
// kLanes = 8 accumulators, so the vector and scalar paths give identical sums; GCC does not vectorise the
// scalar loop by itself at -O2, and this is the capture's hottest loop (two logs per key, two JSDs per row).
template <typename P, typename Q>
double jsd_overlap_sum(const P* p, double p_scale, const Q* q, double q_scale, int n) {
  float acc[kLanes] = {};
  const float ps = static_cast<float>(p_scale), qs = static_cast<float>(q_scale);
  const float tiny = std::numeric_limits<float>::min();
  int i = 0;
  const auto term = [&](int j) {
    const float a = static_cast<float>(p[j]) * ps, b = static_cast<float>(q[j]) * qs;
    const float two_over_sum = 2.0f / std::max(a + b, tiny);
    return a * fast_log(a * two_over_sum) + b * fast_log(b * two_over_sum);
  };
  static_assert(kLanes == 8, "two four-lane accumulators");
  Float4 low{}, high{};
  const auto term4 = [&](int j) {
    const Float4 a = load4_as_float(p + j) * ps, b = load4_as_float(q + j) * qs;
    const Float4 sum = a + b;
    const Int4 small = sum < tiny;
    const Float4 two_over_sum = 2.0f / bits_float4((float4_bits(Float4{} + tiny) & small) | (float4_bits(sum) & ~small));
    return a * fast_log4(a * two_over_sum) + b * fast_log4(b * two_over_sum);
  };
  for (; i + kLanes <= n; i += kLanes) {
    low += term4(i);
    high += term4(i + 4);
  }
  for (int lane = 0; lane < 4; ++lane) {
    acc[lane] = low[lane];
    acc[lane + 4] = high[lane];
  }
  for (int lane = 0; i < n; ++i, ++lane) acc[lane] += term(i);
  double total = 0;
  for (float a : acc) total += a;
  return total;
}

template <typename T>
double partial_mass(const T* p, int begin, int end) {
  double sum = 0;
  for (int j = begin; j < end; ++j) sum += static_cast<double>(p[j]);
  return sum;
}

// Rows indexed by absolute key: p over [p_begin, p_end) scaled by p_scale (= 1 / its mass), same for q.
template <typename P, typename Q>
double jsd_aligned(const P* p, int p_begin, int p_end, double p_scale, const Q* q, int q_begin, int q_end,
                   double q_scale) {
  const int lo = std::max(p_begin, q_begin), hi = std::min(p_end, q_end);
  double outside = 0;  // mass of each row where the other is zero
  if (lo >= hi) {
    outside = partial_mass(p, p_begin, p_end) * p_scale + partial_mass(q, q_begin, q_end) * q_scale;
  } else {
    outside += (partial_mass(p, p_begin, lo) + partial_mass(p, hi, p_end)) * p_scale;
    outside += (partial_mass(q, q_begin, lo) + partial_mass(q, hi, q_end)) * q_scale;
  }
  const double overlap = lo < hi ? jsd_overlap_sum(p + lo, p_scale, q + lo, q_scale, hi - lo) : 0.0;
  const double value = 0.5 * (overlap + kLn2 * outside);
  return std::clamp(value, 0.0, kLn2);
}

// ---- 4. Single-row API helpers -------------------------------------------------------------------

std::vector<float> gather_valid(const float* probs, int key_count, const std::uint8_t* key_mask) {
  std::vector<float> valid;
  valid.reserve(static_cast<std::size_t>(key_count));
  for (int j = 0; j < key_count; ++j)
    if (!key_mask || key_mask[j]) valid.push_back(probs[j]);
  return valid;
}

}  // namespace

double row_entropy(const float* probs, int key_count, const std::uint8_t* key_mask) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  const int n = static_cast<int>(valid.size());
  return entropy_from_sums(sum_row(valid.data(), n), n);
}

double row_entropy_normalized(const float* probs, int key_count, const std::uint8_t* key_mask) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  const int n = static_cast<int>(valid.size());
  if (n <= 1) return kNaN;
  return entropy_from_sums(sum_row(valid.data(), n), n) / std::log(static_cast<double>(n));
}

double row_exp_entropy(const float* probs, int key_count, const std::uint8_t* key_mask) {
  return std::exp(row_entropy(probs, key_count, key_mask));
}

double row_participation_count(const float* probs, int key_count, const std::uint8_t* key_mask) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  const auto sums = sum_row(valid.data(), static_cast<int>(valid.size()));
  if (!(sums.mass > 0)) return kNaN;
  return sums.mass * sums.mass / static_cast<double>(sums.sum_squares);
}

double row_max_attention(const float* probs, int key_count, const std::uint8_t* key_mask) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  const auto sums = sum_row(valid.data(), static_cast<int>(valid.size()));
  if (!(sums.mass > 0)) return kNaN;
  return static_cast<double>(sums.max_value) / sums.mass;
}

int row_k90(const float* probs, int key_count, const std::uint8_t* key_mask, double tau) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  const int n = static_cast<int>(valid.size());
  const auto sums = sum_row(valid.data(), n);
  std::vector<float> scratch(2 * valid.size());
  return k90_exact(valid.data(), n, sums.mass, sums.max_value, tau, scratch.data());
}

int row_k90_by_sort(const float* probs, int key_count, const std::uint8_t* key_mask, double tau) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  double mass = 0;
  for (float v : valid) mass += v;
  if (valid.empty() || !(mass > 0)) return 0;
  std::vector<double> normalized(valid.begin(), valid.end());
  for (double& v : normalized) v /= mass;
  std::sort(normalized.begin(), normalized.end(), std::greater<double>());
  double cumulative = 0;
  for (std::size_t k = 0; k < normalized.size(); ++k) {
    cumulative += normalized[k];
    if (cumulative >= tau - kK90Tolerance) return static_cast<int>(k + 1);
  }
  return static_cast<int>(normalized.size());
}

int row_connectivity(const float* probs, int key_count, const std::uint8_t* key_mask, double theta) {
  const auto valid = gather_valid(probs, key_count, key_mask);
  double mass = 0;
  for (float v : valid) mass += v;
  const double threshold = (theta - kConnectivityTolerance) * mass;
  int count = 0;
  for (float v : valid) count += static_cast<double>(v) >= threshold ? 1 : 0;
  return mass > 0 ? count : 0;
}

double row_input_attention_fraction(const float* probs, int key_count, int prompt_length,
                                    const std::uint8_t* key_mask) {
  double prompt_mass = 0, mass = 0;
  for (int j = 0; j < key_count; ++j) {
    if (key_mask && !key_mask[j]) continue;
    mass += probs[j];
    if (j < prompt_length) prompt_mass += probs[j];
  }
  return mass > 0 ? prompt_mass / mass : kNaN;
}

double jsd(const std::vector<double>& p, const std::vector<double>& q) {
  double p_mass = 0, q_mass = 0;
  for (double v : p) p_mass += v;
  for (double v : q) q_mass += v;
  if (!(p_mass > 0) || !(q_mass > 0)) return kNaN;
  const std::size_t n = std::max(p.size(), q.size());
  double total = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double a = j < p.size() ? p[j] / p_mass : 0.0, b = j < q.size() ? q[j] / q_mass : 0.0;
    const double m = 0.5 * (a + b);
    if (a > 0) total += a * std::log(a / m);
    if (b > 0) total += b * std::log(b / m);
  }
  return std::clamp(0.5 * total, 0.0, kLn2);
}

double jsd(const float* p, int p_count, const float* q, int q_count) {
  return jsd(std::vector<double>(p, p + p_count), std::vector<double>(q, q + q_count));
}

std::vector<double> windowed_jsd(const std::vector<std::vector<double>>& rows, int window) {
  const int steps = static_cast<int>(rows.size());
  std::vector<double> result(rows.size(), kNaN);
  if (window <= 0) return result;
  for (int t = window; t <= steps - window; ++t) {
    std::vector<double> past(static_cast<std::size_t>(t + window), 0.0), future(past.size(), 0.0);
    const auto add = [&](std::vector<double>& into, const std::vector<double>& row) {
      double mass = 0;
      for (double v : row) mass += v;
      if (!(mass > 0)) return;
      for (std::size_t j = 0; j < row.size() && j < into.size(); ++j) into[j] += row[j] / (mass * window);
    };
    for (int s = t - window; s < t; ++s) add(past, rows[static_cast<std::size_t>(s)]);
    for (int s = t; s < t + window; ++s) add(future, rows[static_cast<std::size_t>(s)]);
    result[static_cast<std::size_t>(t)] = jsd(past, future);
  }
  return result;
}

// ---- 5. Fused head pass, in blocks of rows --------------------------------------------------------

TokenMetricStream::TokenMetricStream(const TokenMetricOptions& options, const TokenMetricOutputs& outputs)
    : options_(options), outputs_(outputs) {}

TokenMetricReport TokenMetricStream::add(const HeadAttention& head) {
  TokenMetricReport report;
  const int query_count = head.query_count, key_count = head.key_count;
  const std::ptrdiff_t row_stride = head.row_stride > 0 ? head.row_stride : key_count;
  if (first_position_ < 0) first_position_ = next_position_ = next_windowed_ = head.query_offset;
  if (head.query_offset != next_position_)
    throw std::logic_error("TokenMetricStream: a block starts at query " + std::to_string(head.query_offset) +
                           ", the previous one ended before " + std::to_string(next_position_));
  const TokenMetricOutputs& out = outputs_;
  const int base = first_position_;
  const auto put = [&out, base](float* array, int position, double value) {
    if (array) array[(position - base) * out.stride] = static_cast<float>(value);
  };
  const bool want_k90 = out.k90 != nullptr, want_connectivity = out.connectivity != nullptr;
  if (want_k90 && k90_scratch_.size() < 2 * static_cast<std::size_t>(key_count))
    k90_scratch_.resize(2 * static_cast<std::size_t>(key_count));
  std::vector<int> row_begin(static_cast<std::size_t>(query_count)), row_end(row_begin.size());
  std::vector<double> row_scale(row_begin.size(), 0.0);  // 1 / mass on V; 0 for an empty row

  for (int q = 0; q < query_count; ++q) {
    const int position = head.query_offset + q;
    int end = head.row_key_end ? head.row_key_end[q] : position + 1;
    int begin = head.row_key_begin ? head.row_key_begin[q]
                : head.sliding_window > 0 ? position + 1 - head.sliding_window : 0;
    end = std::clamp(end, 0, key_count);
    begin = std::clamp(begin, 0, end);
    row_begin[q] = begin;
    row_end[q] = end;
    const float* p = head.probs + q * row_stride + begin;
    const int n = end - begin;
    const RowSums sums = sum_row(p, n);
    if (n == 0 || !(sums.mass > 0)) {
      report.empty_rows += 1;
      for (float* array : {out.entropy, out.entropy_normalized, out.exp_entropy, out.participation_count,
                           out.max_attention, out.k90, out.connectivity, out.input_attention_fraction})
        put(array, position, kNaN);
      continue;
    }
    row_scale[q] = 1.0 / sums.mass;
    const bool enough_context = position >= options_.insufficient_context_positions;
    const double entropy = enough_context ? entropy_from_sums(sums, n) : kNaN;
    put(out.entropy, position, entropy);
    put(out.entropy_normalized, position, n > 1 ? entropy / std::log(static_cast<double>(n)) : kNaN);
    put(out.exp_entropy, position, std::exp(entropy));
    put(out.participation_count, position, sums.mass * sums.mass / static_cast<double>(sums.sum_squares));
    put(out.max_attention, position, static_cast<double>(sums.max_value) / sums.mass);
    if (want_k90)
      put(out.k90, position, k90_exact(p, n, sums.mass, sums.max_value, options_.k90_mass, k90_scratch_.data()));
    if (want_connectivity) {
      const double threshold = (options_.connectivity_threshold - kConnectivityTolerance) * sums.mass;
      int count = 0;
      for (int j = 0; j < n; ++j) count += static_cast<double>(p[j]) >= threshold ? 1 : 0;
      put(out.connectivity, position, count);
    }
    if (out.input_attention_fraction) {
      const bool generated = options_.prompt_length >= 0 && position >= options_.prompt_length;
      const int prompt_end = std::clamp(options_.prompt_length, begin, end);
      put(out.input_attention_fraction, position,
          generated ? partial_mass(head.probs + q * row_stride, begin, prompt_end) / sums.mass : kNaN);
    }
  }

  // Rows by absolute position: this block's, or the kept rows just before it.
  struct RowView {
    const float* values;  // indexed by absolute key
    int begin, end;
    double scale;
  };
  const int kept_first = head.query_offset - static_cast<int>(kept_.size());
  const auto row = [&](int position) -> RowView {
    if (position >= head.query_offset) {
      const int q = position - head.query_offset;
      return {head.probs + q * row_stride, row_begin[q], row_end[q], row_scale[q]};
    }
    const KeptRow& kept = kept_[static_cast<std::size_t>(position - kept_first)];
    return {kept.values.data(), kept.begin, kept.end, kept.scale};
  };

  if (out.jsd_previous) {
    for (int q = 0; q < query_count; ++q) {
      const int position = head.query_offset + q;
      if (position == base) {
        put(out.jsd_previous, position, kNaN);
        continue;
      }
      const RowView previous = row(position - 1), current = row(position);
      const bool defined = previous.scale > 0 && current.scale > 0;
      put(out.jsd_previous, position,
          defined ? jsd_aligned(previous.values, previous.begin, previous.end, previous.scale, current.values,
                                current.begin, current.end, current.scale)
                  : kNaN);
    }
  }

  const int w = options_.jsd_window;
  if (out.windowed_jsd) {
    // Defined for w <= t <= T - w (t counted from the first row); t is written once rows t-w..t+w-1 are here.
    for (int q = 0; q < query_count; ++q) put(out.windowed_jsd, head.query_offset + q, kNaN);
    const int last = head.query_offset + query_count - w;
    for (int t = std::max(next_windowed_, base + w); w > 0 && t <= last; ++t) {
      int lo = std::numeric_limits<int>::max(), hi = 0;
      double past_rows = 0, future_rows = 0;  // non-empty rows in each window
      for (int s = t - w; s < t + w; ++s) {
        const RowView r = row(s);
        lo = std::min(lo, r.begin);
        hi = std::max(hi, r.end);
        (s < t ? past_rows : future_rows) += r.scale > 0 ? 1.0 : 0.0;
      }
      if (past_.size() < static_cast<std::size_t>(hi)) {
        past_.resize(static_cast<std::size_t>(hi));
        future_.resize(static_cast<std::size_t>(hi));
      }
      std::fill(past_.begin() + lo, past_.begin() + std::max(lo, hi), 0.0);
      std::fill(future_.begin() + lo, future_.begin() + std::max(lo, hi), 0.0);
      for (int s = t - w; s < t + w; ++s) {  // sums of the renormalised rows of each window
        const RowView r = row(s);
        double* into = (s < t ? past_ : future_).data();
        for (int j = r.begin; j < r.end; ++j) into[j] += r.values[j] * r.scale;
      }
      const bool defined = past_rows > 0 && future_rows > 0 && lo < hi;
      put(out.windowed_jsd, t,
          defined ? jsd_aligned(past_.data(), lo, hi, 1.0 / past_rows, future_.data(), lo, hi, 1.0 / future_rows)
                  : kNaN);
    }
    next_windowed_ = std::max(next_windowed_, last + 1);
  }

  if (out.received_attention) {
    if (received_.size() < static_cast<std::size_t>(key_count)) received_.resize(static_cast<std::size_t>(key_count), 0.0);
    for (int q = 0; q < query_count; ++q) {
      const float* values = head.probs + q * row_stride;
      const int later_end = std::min(row_end[q], head.query_offset + q);  // keys strictly before the query
      for (int j = row_begin[q]; j < later_end; ++j) received_[static_cast<std::size_t>(j)] += values[j] * row_scale[q];
    }
  }

  // Keep the last rows for the next block's JSD (one row) and windowed JSD (2w - 1 rows).
  const int keep = std::max(1, 2 * w - 1);
  const int next_position = head.query_offset + query_count;
  std::vector<KeptRow> kept;
  for (int position = std::max(kept_first, next_position - keep); position < next_position; ++position) {
    const RowView r = row(position);
    KeptRow k;
    k.values.assign(static_cast<std::size_t>(r.end), 0.0f);
    std::copy(r.values + r.begin, r.values + r.end, k.values.begin() + r.begin);
    k.begin = r.begin;
    k.end = r.end;
    k.scale = r.scale;
    kept.push_back(std::move(k));
  }
  kept_ = std::move(kept);
  next_position_ = next_position;
  return report;
}

void TokenMetricStream::finish() {
  if (!outputs_.received_attention) return;
  for (std::size_t j = 0; j < received_.size(); ++j) outputs_.received_attention[j] = static_cast<float>(received_[j]);
}

TokenMetricReport compute_token_metrics(const HeadAttention& head, const TokenMetricOptions& options,
                                        const TokenMetricOutputs& out) {
  TokenMetricStream stream(options, out);
  const TokenMetricReport report = stream.add(head);
  stream.finish();
  return report;
}

}  // namespace headscope::analysis
