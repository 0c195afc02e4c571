// run_ib (see run_ib.h): the stages in order, the record for ib_store.h, and the counts the summary needs.
#include "core/analysis/ib/run_ib.h"

#include <nlohmann/json.hpp>

#include "core/analysis/ib/ib_store.h"
#include "core/analysis/ib/summary.h"
#include "core/store/file_replace.h"

namespace headscope::analysis::ib {

namespace {

std::string settings_json(const IbSettings& settings, const IbRun& run) {
  const AnnealOptions& a = settings.anneal;
  const SmoothingOptions& s = run.smoothing;
  return nlohmann::json{{"smoothing", smoothing_name(s.method)}, {"cells", run.smoothed.cell_count},
                        {"alpha", s.alpha}, {"neighbours", s.neighbours},
                        {"neighbour_weight", s.neighbour_weight}, {"beta_min", a.beta_min},
                        {"beta_max", a.beta_max}, {"beta_ratio", a.beta_ratio},
                        {"clusters_max", a.clusters_max}, {"min_size", a.min_size},
                        {"gain_tolerance", a.gain_tolerance}, {"bias_constant", a.bias_constant},
                        {"max_iterations", a.max_iterations}, {"tolerance", a.tolerance},
                        {"refine_steps", a.refine_steps}, {"seed", a.seed}}
      .dump();
}

IbTransitionCounts count_transitions(const std::vector<TransitionEvent>& history) {
  IbTransitionCounts counts;
  for (const TransitionEvent& e : history) {
    counts.splits += e.kind == EventKind::split;
    counts.reabsorbs += e.kind == EventKind::reabsorb;
    counts.merge_backs += e.kind == EventKind::merge_back;
    counts.beta_steps_not_converged += e.kind == EventKind::nonconverged;
  }
  return counts;
}

}  // namespace

IbRun run_ib(const IbSettings& settings, const IbObserver& observer) {
  store::check_replaceable(settings.out_path, settings.overwrite);  // before minutes of work, not after
  IbRun run;
  run.data = load_step_data(settings.embeddings_path, settings.labels_path);
  const StepData& data = run.data;
  if (observer.loaded) observer.loaded(data);

  run.smoothing = settings.smoothing_options;
  run.smoothing.method = parse_smoothing(settings.smoothing);
  run.smoothing.seed = settings.anneal.seed;
  run.smoothing.threads = settings.anneal.threads;
  const int label_count = static_cast<int>(data.label_names.size());
  run.smoothed = smooth_labels(data.embeddings.data(), data.step_count, data.dim, data.labels, label_count, run.smoothing);
  run.info_xy = mutual_information_xy(run.smoothed.problem);
  if (observer.smoothed) observer.smoothed(run.smoothed, run.smoothing, run.info_xy);

  run.result = anneal(run.smoothed.problem, settings.anneal, observer.transition, observer.beta_step);
  const SoftClustering& final_clusters = run.result.clustering;
  run.final_measures = measure(run.smoothed.problem, final_clusters);
  run.step_assignment = hard_assignment(final_clusters, run.smoothed.step_to_x);
  run.counts = count_transitions(run.result.history);

  IbRunRecord record;
  record.command_line = settings.command_line;
  record.input_source = data.source;
  record.settings_json = settings_json(settings, run);
  record.label_names = data.label_names;
  record.labels = data.labels;
  record.step_cell = run.smoothed.step_cell;
  record.step_assignment = run.step_assignment;
  record.step_membership = assigned_membership(final_clusters, run.smoothed.step_to_x, record.step_assignment);
  record.source_store = data.source_store;
  record.source_store_created = data.source_store_created;
  record.step_sample = data.step_sample;
  record.step_span_start = data.step_span_start;
  record.step_span_end = data.step_span_end;
  record.result = &run.result;
  record.merges = agglomerate(final_clusters.cluster_mass, final_clusters.label_given_cluster, label_count, run.result.cluster_id);
  record.elbow = elbow_table(record.merges, final_clusters.cluster_count, run.final_measures.info_ty);
  add_split_elbow(record.elbow, run.result.history, run.result.curve);
  record.clusters = summarize_clusters(run.result, run.smoothed.step_to_x, data.labels, label_count);
  write_ib_file(settings.out_path, record, settings.overwrite);
  run.elbow = std::move(record.elbow);
  return run;
}

}  // namespace headscope::analysis::ib
