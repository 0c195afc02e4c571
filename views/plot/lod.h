// Level of detail for long series and wide matrices: when more data columns are visible than pixel
// columns, the plot draws one reduced column per pixel (min and max of a line, the max of a heatmap's
// cells) instead of one primitive per value, so 32k tokens draw as fast as 512. Bins are contiguous and
// equal within one index: bin p of `count` values split into `bins` covers [floor(p·count/bins),
// floor((p+1)·count/bins)). NaN values are skipped; an all-NaN bin reduces to NaN.
#pragma once
#include <cstdint>
#include <vector>

namespace headscope::plot {

// The index range [begin, end) of bin p when `count` values are split into `bins` (bins <= count).
inline std::int64_t bin_begin(std::int64_t p, std::int64_t count, std::int64_t bins) { return p * count / bins; }

// mins, maxs [bins]: min and max of ys[first + i * stride_values] for i in each bin of [0, count).
void min_max_per_bin(const float* ys, std::int64_t stride_values, std::int64_t first, std::int64_t count, int bins,
                     float* mins, float* maxs);

// out [rows, bins]: the max of each row's cells in each bin of columns [first_col, first_col + col_count)
// of a row-major [rows, cols] matrix.
void max_per_column_bin(const float* values, int rows, int cols, int first_col, int col_count, int bins, float* out);

// The visible whole-index range [first, first + count) of indices 0..size-1 over data range [lo, hi]
// (cells centred on integers), or count 0 when none is visible.
struct IndexRange {
  std::int64_t first = 0, count = 0;
};
IndexRange visible_indices(double lo, double hi, std::int64_t size);

}  // namespace headscope::plot
