// Per-pixel-column reductions of the plotting layer (see lod.h).
#include "views/plot/lod.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace headscope::plot {

void min_max_per_bin(const float* ys, std::int64_t stride_values, std::int64_t first, std::int64_t count, int bins,
                     float* mins, float* maxs) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int p = 0; p < bins; ++p) {
    float lo = nan, hi = nan;
    const std::int64_t end = bin_begin(p + 1, count, bins);
    for (std::int64_t i = bin_begin(p, count, bins); i < end; ++i) {
      const float y = ys[(first + i) * stride_values];
      if (std::isnan(y)) continue;
      if (!(y >= lo)) lo = y;  // NaN lo takes the first value
      if (!(y <= hi)) hi = y;
    }
    mins[p] = lo;
    maxs[p] = hi;
  }
}

void max_per_column_bin(const float* values, int rows, int cols, int first_col, int col_count, int bins, float* out) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int r = 0; r < rows; ++r) {
    const float* row = values + std::size_t(r) * cols + first_col;
    for (int p = 0; p < bins; ++p) {
      float hi = nan;
      const auto end = bin_begin(p + 1, col_count, bins);
      for (auto c = bin_begin(p, col_count, bins); c < end; ++c)
        if (!(row[c] <= hi) && !std::isnan(row[c])) hi = row[c];
      out[std::size_t(r) * bins + p] = hi;
    }
  }
}

IndexRange visible_indices(double lo, double hi, std::int64_t size) {
  if (lo > hi) std::swap(lo, hi);
  const double first = std::max(0.0, std::floor(lo + 0.5));
  const double last = std::min(static_cast<double>(size - 1), std::ceil(hi - 0.5));
  if (!(last >= first)) return {};
  return {static_cast<std::int64_t>(first), static_cast<std::int64_t>(last - first) + 1};
}

}  // namespace headscope::plot
