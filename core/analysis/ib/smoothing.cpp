// Label smoothing by embedding geometry: k-means quantisation, or k-nearest-neighbour mixing searched
// through the k-means cells. See smoothing.h for the formulas.
#include "core/analysis/ib/smoothing.h"

#include <algorithm>
#include <chrono>
#include <queue>
#include <stdexcept>
#include <utility>

#include "core/analysis/ib/kmeans.h"
#include "core/analysis/ib/parallel.h"

namespace headscope::analysis::ib {

const char* smoothing_name(Smoothing smoothing) { return smoothing == Smoothing::knn ? "knn" : "quantize"; }

Smoothing parse_smoothing(const std::string& name) {
  if (name == "quantize" || name == "quantise") return Smoothing::quantize;
  if (name == "knn") return Smoothing::knn;
  throw std::invalid_argument("unknown smoothing '" + name + "' (expected quantize or knn)");
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// p(y|x) per step from its own label and its neighbours'. [N, Y]
std::vector<double> knn_label_rows(const std::vector<float>& unit, std::int64_t n, int dim, const std::vector<int>& labels,
                                   int label_count, const SphericalKMeansResult& cells, const SmoothingOptions& options) {
  const int probes = std::max(1, std::min(options.probes, cells.cluster_count));
  const std::vector<int> nearest =
      nearest_centroids(unit.data(), n, dim, cells.centroids, cells.cluster_count, probes, options.threads);
  // Rows regrouped cell by cell (cell c's members at [cell_start[c], cell_start[c + 1])), and points
  // handled cell by cell: the cells a point searches are mostly those its cell-mates search, so they are
  // read from cache rather than from scattered rows of the whole matrix.
  std::vector<std::int64_t> cell_start(cells.cluster_count + 1, 0), order(n);
  for (std::int64_t i = 0; i < n; ++i) ++cell_start[cells.assignment[i] + 1];
  for (int c = 0; c < cells.cluster_count; ++c) cell_start[c + 1] += cell_start[c];
  {
    std::vector<std::int64_t> next(cell_start.begin(), cell_start.end() - 1);
    for (std::int64_t i = 0; i < n; ++i) order[next[cells.assignment[i]]++] = i;  // by cell, then by index
  }
  std::vector<float> grouped(static_cast<size_t>(n) * dim);
  for (std::int64_t r = 0; r < n; ++r)
    std::copy_n(&unit[static_cast<size_t>(order[r]) * dim], dim, &grouped[static_cast<size_t>(r) * dim]);
  const int k = std::max(1, options.neighbours);
  const double w = options.neighbour_weight;
  std::vector<double> rows(static_cast<size_t>(n) * label_count, 0.0);
  parallel_pieces(cells.cluster_count, resolve_thread_count(options.threads), [&](std::int64_t cell) {
    using Scored = std::pair<float, std::int64_t>;  // (cosine, step); the heap keeps the k best
    for (std::int64_t r = cell_start[cell]; r < cell_start[cell + 1]; ++r) {
      const std::int64_t i = order[r];
      std::priority_queue<Scored, std::vector<Scored>, std::greater<Scored>> best;
      const float* row = &grouped[static_cast<size_t>(r) * dim];
      for (int p = 0; p < probes; ++p) {
        const int probe = nearest[static_cast<size_t>(i) * probes + p];
        for (std::int64_t m = cell_start[probe]; m < cell_start[probe + 1]; ++m) {
          const std::int64_t j = order[m];
          if (j == i) continue;
          const Scored candidate{dot(row, &grouped[static_cast<size_t>(m) * dim], dim), -j};  // ties: lower index
          if (static_cast<int>(best.size()) < k) best.push(candidate);
          else if (best.top() < candidate) {
            best.pop();
            best.push(candidate);
          }
        }
      }
      double* out = &rows[static_cast<size_t>(i) * label_count];
      out[labels[i]] += best.empty() ? 1.0 : 1 - w;
      const double share = best.empty() ? 0.0 : w / static_cast<double>(best.size());
      for (; !best.empty(); best.pop()) out[labels[-best.top().second]] += share;
    }
  });
  return rows;
}

}  // namespace

SmoothedProblem smooth_labels(const float* embeddings, std::int64_t step_count, int dim, const std::vector<int>& labels,
                              int label_count, const SmoothingOptions& options) {
  if (step_count < 2 || dim < 1) throw std::invalid_argument("IB smoothing: need at least 2 steps with a dimension");
  if (static_cast<std::int64_t>(labels.size()) != step_count)
    throw std::invalid_argument("IB smoothing: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(step_count) + " embeddings");
  for (int y : labels)
    if (y < 0 || y >= label_count) throw std::invalid_argument("IB smoothing: label index out of range");
  SmoothedProblem out;
  std::vector<float> unit(embeddings, embeddings + step_count * dim);
  normalize_rows(unit.data(), step_count, dim);

  const auto kmeans_start = std::chrono::steady_clock::now();
  SphericalKMeansOptions kmeans_options;
  kmeans_options.cluster_count = options.cells > 0 ? static_cast<int>(std::min<std::int64_t>(options.cells, step_count))
                                                   : static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(step_count / 10, 1000)));
  kmeans_options.max_iterations = options.kmeans_iterations;
  kmeans_options.seed = options.seed;
  kmeans_options.threads = options.threads;
  const SphericalKMeansResult cells = spherical_kmeans(unit.data(), step_count, dim, kmeans_options);
  out.kmeans_seconds = seconds_since(kmeans_start);
  out.cell_count = cells.cluster_count;
  out.kmeans_iterations = cells.iterations;
  out.kmeans_converged = cells.converged;
  out.kmeans_mean_cosine = cells.mean_cosine;
  out.step_cell = cells.assignment;

  IbProblem raw;
  raw.y_count = label_count;
  raw.step_count = static_cast<double>(step_count);
  std::vector<int> step_to_raw(step_count);
  if (options.method == Smoothing::quantize) {
    std::vector<double> counts(static_cast<size_t>(cells.cluster_count) * label_count, 0.0);
    for (std::int64_t i = 0; i < step_count; ++i) counts[static_cast<size_t>(cells.assignment[i]) * label_count + labels[i]] += 1;
    std::vector<int> cell_to_raw(cells.cluster_count, -1);
    for (int c = 0; c < cells.cluster_count; ++c) {
      if (cells.sizes[c] == 0) continue;
      cell_to_raw[c] = raw.x_count++;
      raw.p_x.push_back(cells.sizes[c] / raw.step_count);
      const double denominator = cells.sizes[c] + options.alpha * label_count;
      for (int y = 0; y < label_count; ++y)
        raw.p_y_given_x.push_back((counts[static_cast<size_t>(c) * label_count + y] + options.alpha) / denominator);
    }
    for (std::int64_t i = 0; i < step_count; ++i) step_to_raw[i] = cell_to_raw[cells.assignment[i]];
  } else {
    const auto knn_start = std::chrono::steady_clock::now();
    raw.x_count = static_cast<int>(step_count);
    raw.p_x.assign(step_count, 1.0 / raw.step_count);
    raw.p_y_given_x = knn_label_rows(unit, step_count, dim, labels, label_count, cells, options);
    for (std::int64_t i = 0; i < step_count; ++i) step_to_raw[i] = static_cast<int>(i);
    out.neighbour_seconds = seconds_since(knn_start);
  }
  CompressedProblem compressed = merge_identical_rows(raw);
  out.problem = std::move(compressed.problem);
  out.step_to_x.resize(step_count);
  for (std::int64_t i = 0; i < step_count; ++i) out.step_to_x[i] = compressed.compressed_index[step_to_raw[i]];
  return out;
}

}  // namespace headscope::analysis::ib
