// Spherical k-means (cosine similarity on L2-normalised rows) for quantising step embeddings before the
// IB, and the nearest-centroid lists the k-nearest-neighbour smoothing searches through. The heavy part,
// points × centroids dot products, runs as a register-blocked 4×16 kernel over packed centroid panels
// (an AVX2 clone is picked at run time on x86-64) on pool threads; results do not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

namespace headscope::analysis::ib {

// Scales each row of data [rows, dim] to unit L2 norm; all-zero rows stay zero.
void normalize_rows(float* data, std::int64_t rows, int dim);

// Dot product of two float vectors (vectorised; same result for any thread count).
float dot(const float* a, const float* b, int dim);

struct SphericalKMeansOptions {
  int cluster_count = 100;
  int max_iterations = 25;
  double min_changed_fraction = 1e-3;  // stop when fewer assignments than this fraction change
  std::uint64_t seed = 1;
  int threads = 2;                     // 0 = all hardware threads
};

struct SphericalKMeansResult {
  int cluster_count = 0;
  int dim = 0;
  std::vector<float> centroids;  // [cluster, dim], unit norm
  std::vector<int> assignment;   // [row] nearest centroid
  std::vector<int> sizes;        // [cluster]
  int iterations = 0;
  bool converged = false;
  double mean_cosine = 0;        // mean cosine of each row to its centroid
};

// Rows must be unit-norm (normalize_rows). Seeds with distinct random rows; an emptied cluster is re-seeded
// with the row farthest from its centroid. Throws std::invalid_argument if rows < cluster_count.
SphericalKMeansResult spherical_kmeans(const float* unit_rows, std::int64_t rows, int dim,
                                       const SphericalKMeansOptions& options);

// For each row, the `count` centroids of highest cosine, best first. [rows, count]
std::vector<int> nearest_centroids(const float* unit_rows, std::int64_t rows, int dim, const std::vector<float>& centroids,
                                   int cluster_count, int count, int threads);

}  // namespace headscope::analysis::ib
