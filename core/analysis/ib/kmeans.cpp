// Spherical k-means. Section index:
//   1. kernels: packed centroid panels [panel, dim, 16], the 4-row × 16-centroid dot tile, dot()
//   2. score_rows(): blocked points × centroids scores handed row by row to a visitor, on pool threads
//   3. spherical_kmeans(), nearest_centroids()
#include "core/analysis/ib/kmeans.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/analysis/ib/ib_problem.h"
#include "core/analysis/ib/parallel.h"
#include "core/analysis/ib/simd.h"


namespace headscope::analysis::ib {

// ---------------------------------------------------------------------------------------------------
// 1. kernels
namespace {

using simd::Float8;
constexpr int kPanelWidth = 16;                          // centroids per packed panel
constexpr int kTileRows = 4;                             // points per kernel call
constexpr int kBlockRows = 64;                           // points whose scores are held at once

// Centroids [count, dim] packed as panels of 16: panel p holds centroid p·16+j at [k·16 + j].
struct CentroidPanels {
  int count = 0;
  int padded = 0;  // count rounded up to a whole panel; padding centroids are zero
  int dim = 0;
  std::vector<float> data;  // [panel, dim, 16]
};

CentroidPanels pack_centroids(const float* centroids, int count, int dim) {
  CentroidPanels panels;
  panels.count = count;
  panels.dim = dim;
  panels.padded = (count + kPanelWidth - 1) / kPanelWidth * kPanelWidth;
  panels.data.assign(static_cast<size_t>(panels.padded) * dim, 0.0f);
  for (int c = 0; c < count; ++c) {
    float* panel = &panels.data[static_cast<size_t>(c / kPanelWidth) * dim * kPanelWidth];
    for (int k = 0; k < dim; ++k) panel[k * kPanelWidth + c % kPanelWidth] = centroids[static_cast<size_t>(c) * dim + k];
  }
  return panels;
}

// out[r][j] = <row r, centroid j of the panel> for 4 rows × 16 centroids; out rows have `out_stride`.
HEADSCOPE_KERNEL_CLONES
void dot_tile(const float* row0, const float* row1, const float* row2, const float* row3, const float* panel, int dim,
              float* out, int out_stride) {
  Float8 a00 = {}, a01 = {}, a10 = {}, a11 = {}, a20 = {}, a21 = {}, a30 = {}, a31 = {};
  for (int k = 0; k < dim; ++k) {
    const Float8 c0 = HEADSCOPE_LOAD8(panel + k * kPanelWidth), c1 = HEADSCOPE_LOAD8(panel + k * kPanelWidth + 8);
    const float x0 = row0[k], x1 = row1[k], x2 = row2[k], x3 = row3[k];
    a00 += c0 * x0;
    a01 += c1 * x0;
    a10 += c0 * x1;
    a11 += c1 * x1;
    a20 += c0 * x2;
    a21 += c1 * x2;
    a30 += c0 * x3;
    a31 += c1 * x3;
  }
  const Float8* acc[kTileRows][2] = {{&a00, &a01}, {&a10, &a11}, {&a20, &a21}, {&a30, &a31}};
  for (int r = 0; r < kTileRows; ++r) {
    std::memcpy(out + r * out_stride, acc[r][0], sizeof(Float8));
    std::memcpy(out + r * out_stride + 8, acc[r][1], sizeof(Float8));
  }
}

HEADSCOPE_KERNEL_CLONES
float dot_kernel(const float* a, const float* b, int dim) {
  Float8 s0 = {}, s1 = {};
  int k = 0;
  for (; k + 16 <= dim; k += 16) {
    s0 += HEADSCOPE_LOAD8(a + k) * HEADSCOPE_LOAD8(b + k);
    s1 += HEADSCOPE_LOAD8(a + k + 8) * HEADSCOPE_LOAD8(b + k + 8);
  }
  float tail = 0;
  for (; k < dim; ++k) tail += a[k] * b[k];
  const Float8 s = s0 + s1;
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

}  // namespace

float dot(const float* a, const float* b, int dim) { return dot_kernel(a, b, dim); }

void normalize_rows(float* data, std::int64_t rows, int dim) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = data + r * dim;
    double norm = 0;
    for (int k = 0; k < dim; ++k) norm += static_cast<double>(row[k]) * row[k];
    if (norm <= 0) continue;
    const float scale = static_cast<float>(1 / std::sqrt(norm));
    for (int k = 0; k < dim; ++k) row[k] *= scale;
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. score_rows
namespace {

// Calls visit(row, scores) for every row, scores[c] = cosine to centroid c (c < panels.count), on
// `threads` threads claiming blocks of 64 rows; visit must only touch per-row state.
template <typename Visit>
void score_rows(const float* rows, std::int64_t row_count, int dim, const CentroidPanels& panels, int threads,
                Visit&& visit) {
  const std::int64_t blocks = (row_count + kBlockRows - 1) / kBlockRows;
  const std::vector<float> zero_row(dim, 0.0f);
  const int panel_count = panels.padded / kPanelWidth;
  parallel_pieces(blocks, threads, [&](std::int64_t b) {
    thread_local std::vector<float> scores;  // [row of the block, centroid], reused across calls
    scores.resize(static_cast<size_t>(kBlockRows) * panels.padded);
    const std::int64_t first = b * kBlockRows;
    const int block_rows = static_cast<int>(std::min<std::int64_t>(kBlockRows, row_count - first));
    for (int p = 0; p < panel_count; ++p) {
      const float* panel = &panels.data[static_cast<size_t>(p) * dim * kPanelWidth];
      for (int r = 0; r < block_rows; r += kTileRows) {
        const float* tile[kTileRows];
        for (int i = 0; i < kTileRows; ++i) tile[i] = r + i < block_rows ? rows + (first + r + i) * dim : zero_row.data();
        dot_tile(tile[0], tile[1], tile[2], tile[3], panel, dim,
                 &scores[static_cast<size_t>(r) * panels.padded + p * kPanelWidth], panels.padded);
      }
    }
    for (int r = 0; r < block_rows; ++r) visit(first + r, &scores[static_cast<size_t>(r) * panels.padded]);
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// 3. k-means and nearest centroids
SphericalKMeansResult spherical_kmeans(const float* unit_rows, std::int64_t rows, int dim,
                                       const SphericalKMeansOptions& options) {
  const int k = options.cluster_count;
  if (k < 1 || rows < k || dim < 1)
    throw std::invalid_argument("spherical k-means: need at least " + std::to_string(k) + " rows, got " +
                                std::to_string(rows));
  const int threads = resolve_thread_count(options.threads);
  SphericalKMeansResult result;
  result.cluster_count = k;
  result.dim = dim;
  result.centroids.resize(static_cast<size_t>(k) * dim);
  // Seeds: k distinct rows by a partial Fisher-Yates shuffle driven by splitmix64.
  {
    std::vector<std::int64_t> order(rows);
    std::iota(order.begin(), order.end(), 0);
    SplitMix64 rng(options.seed);
    for (int c = 0; c < k; ++c) {
      const std::int64_t pick = c + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(rows - c));
      std::swap(order[c], order[pick]);
      std::copy(unit_rows + order[c] * dim, unit_rows + (order[c] + 1) * dim, &result.centroids[static_cast<size_t>(c) * dim]);
    }
  }
  result.assignment.assign(rows, -1);
  std::vector<float> best_score(rows, 0.0f);
  std::vector<double> sums(static_cast<size_t>(k) * dim);
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    const CentroidPanels panels = pack_centroids(result.centroids.data(), k, dim);
    std::vector<char> changed(rows, 0);
    score_rows(unit_rows, rows, dim, panels, threads, [&](std::int64_t row, const float* scores) {
      int best = 0;
      for (int c = 1; c < k; ++c)
        if (scores[c] > scores[best]) best = c;
      changed[row] = result.assignment[row] != best;
      result.assignment[row] = best;
      best_score[row] = scores[best];
    });
    const std::int64_t changed_count = std::count(changed.begin(), changed.end(), 1);
    result.iterations = iteration;
    // New centroids: normalised sums of their rows; empty ones take the rows farthest from their centroid.
    std::fill(sums.begin(), sums.end(), 0.0);
    result.sizes.assign(k, 0);
    for (std::int64_t r = 0; r < rows; ++r) {
      const int c = result.assignment[r];
      ++result.sizes[c];
      double* sum = &sums[static_cast<size_t>(c) * dim];
      const float* row = unit_rows + r * dim;
      for (int j = 0; j < dim; ++j) sum[j] += row[j];
    }
    std::vector<std::int64_t> farthest;
    for (int c = 0; c < k; ++c) {
      if (result.sizes[c] > 0) continue;
      if (farthest.empty()) {
        farthest.resize(rows);
        std::iota(farthest.begin(), farthest.end(), 0);
        std::stable_sort(farthest.begin(), farthest.end(),
                         [&](std::int64_t a, std::int64_t b) { return best_score[a] < best_score[b]; });
        std::reverse(farthest.begin(), farthest.end());
      }
      const std::int64_t row = farthest.back();
      farthest.pop_back();
      for (int j = 0; j < dim; ++j) sums[static_cast<size_t>(c) * dim + j] = unit_rows[row * dim + j];
    }
    for (int c = 0; c < k; ++c) {
      const double* sum = &sums[static_cast<size_t>(c) * dim];
      double norm = 0;
      for (int j = 0; j < dim; ++j) norm += sum[j] * sum[j];
      const double scale = norm > 0 ? 1 / std::sqrt(norm) : 0.0;
      for (int j = 0; j < dim; ++j) result.centroids[static_cast<size_t>(c) * dim + j] = static_cast<float>(sum[j] * scale);
    }
    if (iteration > 1 && changed_count <= options.min_changed_fraction * rows) {
      result.converged = true;
      break;
    }
  }
  // Final assignment to the final centroids.
  const CentroidPanels panels = pack_centroids(result.centroids.data(), k, dim);
  score_rows(unit_rows, rows, dim, panels, threads, [&](std::int64_t row, const float* scores) {
    int best = 0;
    for (int c = 1; c < k; ++c)
      if (scores[c] > scores[best]) best = c;
    result.assignment[row] = best;
    best_score[row] = scores[best];
  });
  result.sizes.assign(k, 0);
  double cosine_sum = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    ++result.sizes[result.assignment[r]];
    cosine_sum += best_score[r];
  }
  result.mean_cosine = cosine_sum / static_cast<double>(rows);
  return result;
}

std::vector<int> nearest_centroids(const float* unit_rows, std::int64_t rows, int dim, const std::vector<float>& centroids,
                                   int cluster_count, int count, int threads) {
  count = std::min(count, cluster_count);
  const CentroidPanels panels = pack_centroids(centroids.data(), cluster_count, dim);
  std::vector<int> nearest(static_cast<size_t>(rows) * count);
  score_rows(unit_rows, rows, dim, panels, resolve_thread_count(threads), [&](std::int64_t row, const float* scores) {
    std::vector<int> order(cluster_count);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + count, order.end(),
                      [&](int a, int b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
    std::copy(order.begin(), order.begin() + count, &nearest[static_cast<size_t>(row) * count]);
  });
  return nearest;
}

}  // namespace headscope::analysis::ib
