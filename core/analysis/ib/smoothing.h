// From N step embeddings [N, d] and labels [N] to the IB's discrete problem. Taking p(y|x) one-hot per step
// makes Y a function of X (every split at β = 1, embeddings unused), so p(y|x) is smoothed by geometry:
//   quantize: spherical k-means of the L2-normalised embeddings into M cells (M = min(N/10, 1000) by
//             default); x = cell, p(x) = n_x/N, p(y|x) = (n_xy + α)/(n_x + α|Y|), α = 0.5;
//   knn:      x = step, p(y|x) = (1−w)·onehot(y) + w·(mean one-hot label of its k nearest neighbours by
//             cosine), neighbours searched in the `probes` nearest k-means cells (an inverted-file search).
// Rows of p(y|x) that are identical are merged (exact; see merge_identical_rows).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/ib/ib_problem.h"

namespace headscope::analysis::ib {

enum class Smoothing { quantize, knn };
const char* smoothing_name(Smoothing smoothing);
Smoothing parse_smoothing(const std::string& name);  // throws std::invalid_argument

struct SmoothingOptions {
  Smoothing method = Smoothing::quantize;
  int cells = 0;                 // k-means cells; 0 = min(N/10, 1000), at least 1
  double alpha = 0.5;            // quantize: additive smoothing of each cell's label counts
  int neighbours = 10;           // knn: k
  double neighbour_weight = 0.5; // knn: w
  int probes = 8;                // knn: cells searched for neighbours
  int kmeans_iterations = 25;
  std::uint64_t seed = 1;
  int threads = 2;               // 0 = all hardware threads
};

struct SmoothedProblem {
  IbProblem problem;              // merged rows; step_count = N
  std::vector<int> step_to_x;     // [N] row of `problem` holding each step
  std::vector<int> step_cell;     // [N] k-means cell of each step
  int cell_count = 0;
  int kmeans_iterations = 0;
  bool kmeans_converged = false;
  double kmeans_mean_cosine = 0;
  double kmeans_seconds = 0;
  double neighbour_seconds = 0;
};

// embeddings [N, d] (not modified); labels [N] in 0..label_count-1.
SmoothedProblem smooth_labels(const float* embeddings, std::int64_t step_count, int dim, const std::vector<int>& labels,
                              int label_count, const SmoothingOptions& options);

}  // namespace headscope::analysis::ib
