// `headscope ib`: Information-Bottleneck template discovery on step embeddings. Reads embeddings and
// labels (HDF5 file, NumPy pair or HeadScope store), smooths p(y|x) by embedding geometry, anneals the
// soft IB with cluster splitting, prints every transition with its β and the AIB elbow table, and writes
// everything to an HDF5 file of kind "ib": core/analysis/ib/run_ib.h does the work, this file prints
// (the report on stdout; progress over the β grid on stderr, app/cli/progress_line.h).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "app/cli/bind_options.h"
#include "app/cli/progress_line.h"
#include "app/cli/registry.h"
#include "core/analysis/ib/run_ib.h"

namespace {

using namespace headscope::analysis::ib;

void print_event(const TransitionEvent& e) {
  switch (e.kind) {
    case EventKind::split:
      std::printf("split     beta=%.4f  K=%-3d gain=%.5f nats  I(X;T)=%.4f  I(T;Y)=%.4f  cluster %d -> %d + %d (%.0f / %.0f steps)\n",
                  e.beta_critical, e.cluster_count, e.gain, e.info_xt, e.info_ty, e.parent, e.parent, e.cluster, e.size_a,
                  e.size_b);
      break;
    case EventKind::reabsorb:
      // parent < 0: a split refused because a half was under min-size (in the file, not printed).
      if (e.parent >= 0)
        std::printf("reabsorb  beta=%.4f  K=%-3d cluster %d (%.0f steps) back into %d (surface tension)\n", e.beta,
                    e.cluster_count, e.cluster, e.size_b, e.parent);
      break;
    case EventKind::merge_back:
    case EventKind::nonconverged:
      break;  // counted in the summary; all are in the output file
  }
}

void print_loaded(const StepData& data) {
  std::printf("input: %s: %lld steps x %d dims, %zu labels\n", data.source.c_str(), static_cast<long long>(data.step_count),
              data.dim, data.label_names.size());
}

void print_smoothed(const SmoothedProblem& smoothed, const SmoothingOptions& options, double info_xy) {
  std::printf("smoothing: %s, %d k-means cells (%d iterations, mean cosine %.3f), %d distinct p(y|x) rows, I(X;Y)=%.4f nats\n",
              smoothing_name(options.method), smoothed.cell_count, smoothed.kmeans_iterations, smoothed.kmeans_mean_cosine,
              smoothed.problem.x_count, info_xy);
}

void print_summary(const IbSettings& settings, const IbRun& run, double seconds) {
  const SoftClustering& final_clusters = run.result.clustering;
  std::printf("final: beta=%.4g  K=%d  I(X;T)=%.4f  I(T;Y)=%.4f of I(X;Y)=%.4f nats  (%d splits, %d reabsorptions, "
              "%d merge-backs, %d beta steps not converged)\n",
              settings.anneal.beta_max, final_clusters.cluster_count, run.final_measures.info_xt, run.final_measures.info_ty,
              run.result.info_xy, run.counts.splits, run.counts.reabsorbs, run.counts.merge_backs,
              run.counts.beta_steps_not_converged);
  std::printf("elbow (agglomerative IB on the %d final clusters; merging stops at the first merge costing >= gain):\n",
              final_clusters.cluster_count);
  std::printf("  and, as the earlier pipeline read it, from the annealing's split gains: the clusters alive at the first beta\n"
              "  after which no split gains >= gain nats\n");
  std::printf("  gain >=   clusters (gain in nats)   clusters (gain as fraction of I(T;Y))   clusters (split gains)  at beta\n");
  for (const ElbowRow& row : run.elbow)
    std::printf("  %.2f      %-24d %-38d %-23d %.4g\n", row.threshold, row.clusters_nats, row.clusters_fraction, row.clusters_split,
                row.beta_split);
  std::printf("wrote %s (%.1f s)\n", settings.out_path.c_str(), seconds);
}

void setup(CLI::App& app) {
  auto command = std::make_shared<IbSettings>();
  auto quiet = std::make_shared<bool>(false);
  auto progress_every = std::make_shared<double>(10);
  command->anneal.threads = 2;
  command->anneal.tolerance = 1e-7;
  command->anneal.max_iterations = 300;
  auto* cmd = app.add_subcommand("ib", "Information-Bottleneck template discovery on step embeddings (beta annealing)");
  cmd->add_option("--embeddings", command->embeddings_path,
                  "Embeddings: .h5 with 'embeddings' [N,d] and 'labels' [N], a HeadScope store, or .npy [N,d]")
      ->required();
  cmd->add_option("--labels", command->labels_path, "Labels .npy [N] (integers), with a .npy embeddings file");
  cmd->add_option("--out", command->out_path, "Output HDF5 file (kind 'ib')")->required();
  cmd->add_flag("--overwrite", command->overwrite, "Replace an existing output file");
  cmd->add_option("--beta-max", command->anneal.beta_max, "Last beta of the annealing")
      ->check(headscope::cli::in_range("--beta-max", 1e-9, 1e12))
      ->capture_default_str();
  cmd->add_option("--beta-min", command->anneal.beta_min, "First beta")->check(headscope::cli::in_range("--beta-min", 1e-9, 1e12))->capture_default_str();
  cmd->add_option("--min-size", command->anneal.min_size, "Surface tension: smallest cluster, in steps")
      ->check(headscope::cli::in_range("--min-size", 1, 1e9))
      ->capture_default_str();
  cmd->add_option("--clusters-max", command->anneal.clusters_max, "No split beyond this many clusters")
      ->check(headscope::cli::in_range("--clusters-max", 1, 1e6))
      ->capture_default_str();
  cmd->add_option("--smoothing", command->smoothing, "p(y|x) smoothing: quantize (k-means cells) or knn")
      ->check(CLI::IsMember({"quantize", "knn"}))
      ->capture_default_str();
  cmd->add_option("--cells", command->smoothing_options.cells, "k-means cells (0 = min(N/10, 1000))")
      ->check(headscope::cli::in_range("--cells", 0, 1e6))
      ->capture_default_str();
  cmd->add_option("--neighbours", command->smoothing_options.neighbours, "knn: neighbours per step")
      ->check(headscope::cli::in_range("--neighbours", 1, 1e6))
      ->capture_default_str();
  cmd->add_option("--bias", command->anneal.bias_constant,
                  "Finite-sample bias threshold c: reject splits gaining less than c(|Y|-1)/(2N); 0 = off")
      ->check(headscope::cli::in_range("--bias", 0, 1e6))
      ->capture_default_str();
  cmd->add_option("--refine-steps", command->anneal.refine_steps,
                  "Bisection steps on each split's critical beta (0 = estimate from the growth factor)")
      ->check(headscope::cli::in_range("--refine-steps", 0, 1e4))
      ->capture_default_str();
  cmd->add_option("--max-iterations", command->anneal.max_iterations, "Iteration cap per convergence")
      ->check(headscope::cli::in_range("--max-iterations", 1, 1e9))
      ->capture_default_str();
  cmd->add_option("--seed", command->anneal.seed, "Seed of k-means and split perturbations")->capture_default_str();
  cmd->add_option("--threads", command->anneal.threads, "Threads (0 = all; more than the cores are capped at them)")
      ->check(headscope::cli::in_range("--threads", 0, 1e6))
      ->capture_default_str();
  cmd->add_flag("--quiet", *quiet, "Do not print each transition");
  headscope::cli::add_progress_every(cmd, *progress_every);
  cmd->callback([command, quiet, progress_every] {
    const auto start = std::chrono::steady_clock::now();
    command->command_line = headscope::cli::command_line();
    headscope::cli::ProgressLine line(*progress_every);
    IbObserver observer{print_loaded, print_smoothed, {}, {}};
    if (!*quiet)
      observer.transition = [&line](const TransitionEvent& e) {
        line.clear();  // stdout may share the terminal
        print_event(e);
        std::fflush(stdout);
      };
    observer.beta_step = [&line](const AnnealStep& step) {
      const double elapsed = line.elapsed_seconds();
      char detail[64];
      std::snprintf(detail, sizeof detail, "beta %.4g  K=%d", step.beta, step.cluster_count);
      line.update({static_cast<double>(step.steps_done), static_cast<double>(step.step_count), "beta steps",
                   elapsed > 0 ? static_cast<double>(step.steps_done) / elapsed : 0, "steps/s", elapsed, {}, detail});
    };
    const IbRun run = run_ib(*command, observer);
    line.finish();
    print_summary(*command, run, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
