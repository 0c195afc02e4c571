// Aggregates that skip NaN: mean / std / count of a strided series, head-grid aggregates across samples
// ([sample, layer, head] -> [layer, head]) and group-by over an integer key (e.g. mean heartbeat count by
// difficulty level: the calibration table). The std convention is explicit at every call:
// population (divide by n, numpy's default) or sample (divide by n - 1, pandas' default).
#pragma once
#include <cstddef>
#include <vector>

namespace headscope::analysis {

enum class StdKind { population, sample };

struct NanStats {
  double mean = 0;  // NaN when count = 0
  double std = 0;   // NaN when count = 0, or count = 1 with StdKind::sample
  int count = 0;    // finite values used
};

// values[i * stride] for i in [0, count).
NanStats nan_stats(const float* values, std::size_t count, std::ptrdiff_t stride = 1,
                   StdKind kind = StdKind::population);
NanStats nan_stats(const double* values, std::size_t count, std::ptrdiff_t stride = 1,
                   StdKind kind = StdKind::population);
NanStats nan_stats(const std::vector<double>& values, StdKind kind = StdKind::population);

// values: [sample, layer, head]. Outputs [layer, head] (caller-owned; any may be nullptr).
void head_grid_stats(const float* values, int sample_count, int layer_count, int head_count, float* mean_out,
                     float* std_out, int* count_out, StdKind kind = StdKind::population);

struct GroupStats {
  int key = 0;
  double mean = 0;
  double std = 0;
  int count = 0;  // finite values in the group
  int rows = 0;   // all rows with this key, NaN included
};

// One row per distinct key, in increasing key order; NaN values are skipped but their key still appears.
std::vector<GroupStats> group_by_key(const std::vector<int>& keys, const std::vector<double>& values,
                                     StdKind kind = StdKind::sample);

}  // namespace headscope::analysis
