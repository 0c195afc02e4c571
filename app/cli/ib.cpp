// `headscope ib`: Information-Bottleneck template discovery on step embeddings. Reads embeddings and
// labels (HDF5 file, NumPy pair or HeadScope store), smooths p(y|x) by embedding geometry, anneals the
// soft IB with cluster splitting, prints every transition with its β and the AIB elbow table, and writes
// everything to an HDF5 file of kind "ib" (core/analysis/ib/ib_store.h).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "app/cli/registry.h"
#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/anneal.h"
#include "core/analysis/ib/ib_input.h"
#include "core/analysis/ib/ib_store.h"
#include "core/analysis/ib/smoothing.h"
#include "core/analysis/ib/summary.h"

namespace {

using namespace headscope::analysis::ib;

struct IbCommand {
  std::string embeddings_path, labels_path, out_path, smoothing = "quantize";
  AnnealOptions anneal;
  SmoothingOptions smoothing_options;
  bool quiet = false;
};

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

void run(const IbCommand& command) {
  const auto start = std::chrono::steady_clock::now();
  StepData data = load_step_data(command.embeddings_path, command.labels_path);
  std::printf("input: %s: %lld steps x %d dims, %zu labels\n", data.source.c_str(), static_cast<long long>(data.step_count),
              data.dim, data.label_names.size());
  SmoothingOptions smoothing_options = command.smoothing_options;
  smoothing_options.method = parse_smoothing(command.smoothing);
  smoothing_options.seed = command.anneal.seed;
  smoothing_options.threads = command.anneal.threads;
  const SmoothedProblem smoothed = smooth_labels(data.embeddings.data(), data.step_count, data.dim, data.labels,
                                                 static_cast<int>(data.label_names.size()), smoothing_options);
  std::printf("smoothing: %s, %d k-means cells (%d iterations, mean cosine %.3f), %d distinct p(y|x) rows, I(X;Y)=%.4f nats\n",
              smoothing_name(smoothing_options.method), smoothed.cell_count, smoothed.kmeans_iterations,
              smoothed.kmeans_mean_cosine, smoothed.problem.x_count, mutual_information_xy(smoothed.problem));

  const AnnealResult result = anneal(smoothed.problem, command.anneal, command.quiet ? EventCallback{} : print_event);
  const SoftClustering& final_clusters = result.clustering;
  const IbMeasures final_measures = measure(smoothed.problem, final_clusters);
  const int label_count = static_cast<int>(data.label_names.size());
  IbRunRecord record;
  record.command_line = headscope::cli::command_line();
  record.input_source = data.source;
  record.label_names = data.label_names;
  record.labels = data.labels;
  record.step_cell = smoothed.step_cell;
  record.step_assignment = hard_assignment(final_clusters, smoothed.step_to_x);
  record.step_membership = assigned_membership(final_clusters, smoothed.step_to_x, record.step_assignment);
  record.source_store = data.source_store;
  record.source_store_created = data.source_store_created;
  record.step_sample = data.step_sample;
  record.step_span_start = data.step_span_start;
  record.step_span_end = data.step_span_end;
  record.result = &result;
  record.merges = agglomerate(final_clusters.cluster_mass, final_clusters.label_given_cluster, label_count, result.cluster_id);
  record.elbow = elbow_table(record.merges, final_clusters.cluster_count, final_measures.info_ty);
  record.clusters = summarize_clusters(result, smoothed.step_to_x, data.labels, label_count);
  nlohmann::json settings = {
      {"smoothing", smoothing_name(smoothing_options.method)}, {"cells", smoothed.cell_count},
      {"alpha", smoothing_options.alpha}, {"neighbours", smoothing_options.neighbours},
      {"neighbour_weight", smoothing_options.neighbour_weight}, {"beta_min", command.anneal.beta_min},
      {"beta_max", command.anneal.beta_max}, {"beta_ratio", command.anneal.beta_ratio},
      {"clusters_max", command.anneal.clusters_max}, {"min_size", command.anneal.min_size},
      {"gain_tolerance", command.anneal.gain_tolerance}, {"bias_constant", command.anneal.bias_constant},
      {"max_iterations", command.anneal.max_iterations}, {"tolerance", command.anneal.tolerance},
      {"refine_steps", command.anneal.refine_steps}, {"seed", command.anneal.seed}};
  record.settings_json = settings.dump();
  write_ib_file(command.out_path, record);

  int splits = 0, reabsorbs = 0, merge_backs = 0, nonconverged = 0;
  for (const TransitionEvent& e : result.history) {
    splits += e.kind == EventKind::split;
    reabsorbs += e.kind == EventKind::reabsorb;
    merge_backs += e.kind == EventKind::merge_back;
    nonconverged += e.kind == EventKind::nonconverged;
  }
  std::printf("final: beta=%.4g  K=%d  I(X;T)=%.4f  I(T;Y)=%.4f of I(X;Y)=%.4f nats  (%d splits, %d reabsorptions, "
              "%d merge-backs, %d beta steps not converged)\n",
              command.anneal.beta_max, final_clusters.cluster_count, final_measures.info_xt, final_measures.info_ty,
              result.info_xy, splits, reabsorbs, merge_backs, nonconverged);
  std::printf("elbow (agglomerative IB on the %d final clusters; merging stops at the first merge costing >= gain):\n",
              final_clusters.cluster_count);
  std::printf("  gain >=   clusters (gain in nats)   clusters (gain as fraction of I(T;Y))\n");
  for (const ElbowRow& row : record.elbow)
    std::printf("  %.2f      %-24d %d\n", row.threshold, row.clusters_nats, row.clusters_fraction);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s (%.1f s)\n", command.out_path.c_str(), seconds);
}

void setup(CLI::App& app) {
  auto command = std::make_shared<IbCommand>();
  command->anneal.threads = 2;
  command->anneal.tolerance = 1e-7;
  command->anneal.max_iterations = 300;
  auto* cmd = app.add_subcommand("ib", "Information-Bottleneck template discovery on step embeddings (beta annealing)");
  cmd->add_option("--embeddings", command->embeddings_path,
                  "Embeddings: .h5 with 'embeddings' [N,d] and 'labels' [N], a HeadScope store, or .npy [N,d]")
      ->required();
  cmd->add_option("--labels", command->labels_path, "Labels .npy [N] (integers), with a .npy embeddings file");
  cmd->add_option("--out", command->out_path, "Output HDF5 file (kind 'ib')")->required();
  cmd->add_option("--beta-max", command->anneal.beta_max, "Last beta of the annealing")->capture_default_str();
  cmd->add_option("--beta-min", command->anneal.beta_min, "First beta")->capture_default_str();
  cmd->add_option("--min-size", command->anneal.min_size, "Surface tension: smallest cluster, in steps")->capture_default_str();
  cmd->add_option("--clusters-max", command->anneal.clusters_max, "No split beyond this many clusters")->capture_default_str();
  cmd->add_option("--smoothing", command->smoothing, "p(y|x) smoothing: quantize (k-means cells) or knn")
      ->check(CLI::IsMember({"quantize", "knn"}))
      ->capture_default_str();
  cmd->add_option("--cells", command->smoothing_options.cells, "k-means cells (0 = min(N/10, 1000))")->capture_default_str();
  cmd->add_option("--neighbours", command->smoothing_options.neighbours, "knn: neighbours per step")->capture_default_str();
  cmd->add_option("--bias", command->anneal.bias_constant,
                  "Finite-sample bias threshold c: reject splits gaining less than c(|Y|-1)/(2N); 0 = off")
      ->capture_default_str();
  cmd->add_option("--refine-steps", command->anneal.refine_steps,
                  "Bisection steps on each split's critical beta (0 = estimate from the growth factor)")
      ->capture_default_str();
  cmd->add_option("--max-iterations", command->anneal.max_iterations, "Iteration cap per convergence")->capture_default_str();
  cmd->add_option("--seed", command->anneal.seed, "Seed of k-means and split perturbations")->capture_default_str();
  cmd->add_option("--threads", command->anneal.threads, "Threads (0 = all)")->capture_default_str();
  cmd->add_flag("--quiet", command->quiet, "Do not print each transition");
  cmd->callback([command] { run(*command); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
