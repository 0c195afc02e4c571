// Benchmark of the IB template discovery at the earlier work's scale: 41,787 synthetic step embeddings of
// 896 dims with planted templates (8 operators × 3 templates, each template with its own label mix),
// quantised by spherical k-means, annealed to at most 64 clusters. Prints wall times per stage and the
// adjusted mutual information between found clusters and the planted templates (goal: < 60 s on 2 cores).
// Times are wall clock and, since the machine may be shared, also this process's CPU time (all threads)
// and the load average when the run started.
//   bench_core_ib [--steps N] [--dim D] [--threads T] [--beta-max B] [--smoothing quantize|knn]
//                 [--write-npy PREFIX]   (also writes PREFIX_embeddings.npy, PREFIX_labels.npy, PREFIX_templates.npy)
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/ami.h"
#include "core/analysis/ib/anneal.h"
#include "core/analysis/ib/smoothing.h"
#include "core/analysis/ib/summary.h"
#include "core/io/npy.h"

using namespace headscope::analysis::ib;

namespace {

constexpr int kOperators = 8;
constexpr int kTemplatesPerOperator = 3;
constexpr int kTemplates = kOperators * kTemplatesPerOperator;

struct Synthetic {
  std::vector<float> embeddings;  // [steps, dim]
  std::vector<int> labels;        // [steps] operator
  std::vector<int> templates;     // [steps] planted template
};

// Template (o, s): label o with probability 0.8, else operator (o+s+1) mod 8. Embedding: a shared offset
// (hidden states share a mean direction), the template's direction, and isotropic noise of 1.5× its norm.
Synthetic make_synthetic(std::int64_t steps, int dim, std::uint64_t seed) {
  SplitMix64 rng(seed);
  auto gaussian = [&rng] {
    const double u = std::max(rng.uniform(), 1e-300), v = rng.uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * v);
  };
  std::vector<float> offset(dim), centers(static_cast<size_t>(kTemplates) * dim);
  for (float& v : offset) v = static_cast<float>(gaussian() / std::sqrt(dim));
  for (float& v : centers) v = static_cast<float>(gaussian() / std::sqrt(dim));
  std::vector<double> template_weight(kTemplates);
  double weight_sum = 0;
  for (int j = 0; j < kTemplates; ++j) weight_sum += template_weight[j] = 1.0 / (1 + 0.15 * j);  // unequal sizes
  Synthetic data;
  data.embeddings.resize(static_cast<size_t>(steps) * dim);
  data.labels.resize(steps);
  data.templates.resize(steps);
  const double noise = 1.5 / std::sqrt(dim);
  for (std::int64_t i = 0; i < steps; ++i) {
    double pick = rng.uniform() * weight_sum;
    int j = 0;
    while (j + 1 < kTemplates && (pick -= template_weight[j]) > 0) ++j;
    const int op = j / kTemplatesPerOperator, variant = j % kTemplatesPerOperator;
    data.templates[i] = j;
    data.labels[i] = rng.uniform() < 0.8 ? op : (op + variant + 1) % kOperators;
    float* row = &data.embeddings[static_cast<size_t>(i) * dim];
    for (int k = 0; k < dim; ++k)
      row[k] = static_cast<float>(0.7 * offset[k] + centers[static_cast<size_t>(j) * dim + k] + noise * gaussian());
  }
  return data;
}

double seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds of this process, all threads together.
double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// The 1-minute load average, or -1 where /proc/loadavg cannot be read.
double load_average() {
  double load = -1;
  if (std::FILE* file = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(file, "%lf", &load) != 1) load = -1;
    std::fclose(file);
  }
  return load;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t steps = 41787;
  int dim = 896, threads = 2;
  double beta_max = 200;
  Smoothing smoothing = Smoothing::quantize;
  std::string npy_prefix;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--steps") steps = std::atoll(argv[i + 1]);
    else if (flag == "--dim") dim = std::atoi(argv[i + 1]);
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--beta-max") beta_max = std::atof(argv[i + 1]);
    else if (flag == "--smoothing") smoothing = parse_smoothing(argv[i + 1]);
    else if (flag == "--write-npy") npy_prefix = argv[i + 1];
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("bench_core_ib: %lld steps x %d dims, %d planted templates (%d operators), %d threads, %s\n",
              static_cast<long long>(steps), dim, kTemplates, kOperators, threads, smoothing_name(smoothing));
  const Synthetic data = make_synthetic(steps, dim, 2024);
  if (!npy_prefix.empty()) {
    const std::uint64_t n = static_cast<std::uint64_t>(steps);
    headscope::io::write_npy(npy_prefix + "_embeddings.npy", "<f4", {n, static_cast<std::uint64_t>(dim)},
                             data.embeddings.data(), data.embeddings.size() * sizeof(float));
    headscope::io::write_npy(npy_prefix + "_labels.npy", "<i4", {n}, data.labels.data(), data.labels.size() * sizeof(int));
    headscope::io::write_npy(npy_prefix + "_templates.npy", "<i4", {n}, data.templates.data(),
                             data.templates.size() * sizeof(int));
  }

  std::printf("load average (1 min) at start: %.2f on %u hardware threads\n", load_average(), std::thread::hardware_concurrency());
  const auto total_start = std::chrono::steady_clock::now();
  const double total_cpu_start = cpu_seconds();
  SmoothingOptions smoothing_options;
  smoothing_options.method = smoothing;
  smoothing_options.threads = threads;
  const SmoothedProblem smoothed = smooth_labels(data.embeddings.data(), steps, dim, data.labels, kOperators, smoothing_options);
  const double smoothing_seconds = seconds(total_start), smoothing_cpu = cpu_seconds() - total_cpu_start;
  std::printf("k-means: %d cells, %d iterations%s, mean cosine %.3f, %.2f s (smoothing total %.2f s, cpu %.2f s, IB rows %d)\n",
              smoothed.cell_count, smoothed.kmeans_iterations, smoothed.kmeans_converged ? "" : " (capped)",
              smoothed.kmeans_mean_cosine, smoothed.kmeans_seconds, smoothing_seconds, smoothing_cpu, smoothed.problem.x_count);
  if (smoothing == Smoothing::knn) std::printf("knn: neighbour search %.2f s\n", smoothed.neighbour_seconds);

  const auto anneal_start = std::chrono::steady_clock::now();
  const double anneal_cpu_start = cpu_seconds();
  AnnealOptions options;
  options.beta_max = beta_max;
  options.clusters_max = 64;
  options.min_size = 50;
  options.tolerance = 1e-7;
  options.max_iterations = 300;
  options.threads = threads;
  const bool verbose = std::getenv("HEADSCOPE_BENCH_VERBOSE") != nullptr;
  const AnnealResult result = anneal(smoothed.problem, options, [&](const TransitionEvent& e) {
    if (verbose)
      std::printf("  %-12s beta=%.4f K=%d gain=%.3g I(T;Y)=%.4f it=%d t=%.1fs\n", event_kind_name(e.kind), e.beta_critical,
                  e.cluster_count, e.gain, e.info_ty, e.iterations, seconds(anneal_start));
  });
  const double anneal_seconds = seconds(anneal_start), anneal_cpu = cpu_seconds() - anneal_cpu_start;
  const IbMeasures final_measures = measure(smoothed.problem, result.clustering);
  const std::vector<AibMerge> merges = agglomerate(result.clustering.cluster_mass, result.clustering.label_given_cluster,
                                                   kOperators, result.cluster_id);
  const std::vector<int> found = hard_assignment(result.clustering, smoothed.step_to_x);
  const double total_seconds = seconds(total_start), total_cpu = cpu_seconds() - total_cpu_start;

  int splits = 0, reabsorbs = 0, nonconverged = 0;
  for (const TransitionEvent& e : result.history) {
    splits += e.kind == EventKind::split;
    reabsorbs += e.kind == EventKind::reabsorb;
    nonconverged += e.kind == EventKind::nonconverged;
  }
  long iterations = 0;
  for (const CurvePoint& p : result.curve) iterations += p.iterations;
  std::printf("anneal: %zu beta steps to %.1f, %d splits, %d reabsorptions, %d non-converged, %ld iterations at the grid "
              "points, %.2f s (cpu %.2f s)\n",
              result.curve.size(), beta_max, splits, reabsorbs, nonconverged, iterations, anneal_seconds, anneal_cpu);
  std::printf("final: K=%d  I(X;T)=%.4f  I(T;Y)=%.4f  I(X;Y)=%.4f nats\n", result.clustering.cluster_count,
              final_measures.info_xt, final_measures.info_ty, result.info_xy);
  std::printf("AMI(found, planted templates) = %.4f\n", adjusted_mutual_information(found, data.templates));
  std::printf("AMI(found, operator labels)   = %.4f\n", adjusted_mutual_information(found, data.labels));
  for (const ElbowRow& row : elbow_table(merges, result.clustering.cluster_count, final_measures.info_ty))
    std::printf("elbow: gain >= %.2f -> %d clusters (nats), %d clusters (fraction of I(T;Y))\n", row.threshold,
                row.clusters_nats, row.clusters_fraction);
  std::printf("wall time (smoothing + anneal + AIB): %.2f s (cpu %.2f s); load average now %.2f\n", total_seconds, total_cpu,
              load_average());
  return 0;
}
