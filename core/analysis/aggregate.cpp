// NaN-skipping mean/std/count helpers, head-grid aggregates and group-by (see aggregate.h). Two passes
// (mean, then squared deviations) in double, so the std stays accurate for values far from zero.
#include "core/analysis/aggregate.h"

#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

namespace headscope::analysis {
namespace {

template <typename T>
NanStats stats(const T* values, std::size_t count, std::ptrdiff_t stride, StdKind kind) {
  NanStats result;
  double sum = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = static_cast<double>(values[static_cast<std::ptrdiff_t>(i) * stride]);
    if (std::isnan(v)) continue;
    sum += v;
    ++result.count;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (result.count == 0) {
    result.mean = result.std = nan;
    return result;
  }
  result.mean = sum / result.count;
  double squares = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = static_cast<double>(values[static_cast<std::ptrdiff_t>(i) * stride]);
    if (!std::isnan(v)) squares += (v - result.mean) * (v - result.mean);
  }
  const int divisor = kind == StdKind::sample ? result.count - 1 : result.count;
  result.std = divisor > 0 ? std::sqrt(squares / divisor) : nan;
  return result;
}

}  // namespace

NanStats nan_stats(const float* values, std::size_t count, std::ptrdiff_t stride, StdKind kind) {
  return stats(values, count, stride, kind);
}

NanStats nan_stats(const double* values, std::size_t count, std::ptrdiff_t stride, StdKind kind) {
  return stats(values, count, stride, kind);
}

NanStats nan_stats(const std::vector<double>& values, StdKind kind) {
  return stats(values.data(), values.size(), 1, kind);
}

void head_grid_stats(const float* values, int sample_count, int layer_count, int head_count, float* mean_out,
                     float* std_out, int* count_out, StdKind kind) {
  const std::ptrdiff_t grid = static_cast<std::ptrdiff_t>(layer_count) * head_count;
  for (std::ptrdiff_t cell = 0; cell < grid; ++cell) {
    const NanStats s = stats(values + cell, static_cast<std::size_t>(sample_count), grid, kind);
    if (mean_out) mean_out[cell] = static_cast<float>(s.mean);
    if (std_out) std_out[cell] = static_cast<float>(s.std);
    if (count_out) count_out[cell] = s.count;
  }
}

std::vector<GroupStats> group_by_key(const std::vector<int>& keys, const std::vector<double>& values,
                                     StdKind kind) {
  if (keys.size() != values.size())
    throw std::invalid_argument("group_by_key: " + std::to_string(keys.size()) + " keys but " +
                                std::to_string(values.size()) + " values");
  std::map<int, std::vector<double>> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(values[i]);
  std::vector<GroupStats> table;
  for (const auto& [key, group] : groups) {
    const NanStats s = nan_stats(group, kind);
    table.push_back({key, s.mean, s.std, s.count, static_cast<int>(group.size())});
  }
  return table;
}

}  // namespace headscope::analysis
