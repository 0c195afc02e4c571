// An IB run to its result file: the solver's history, curve, merges and cluster summaries turned into the
// plain struct of core/store/ib_file.h and written by the store's one writer (see ib_store.h).
#include "core/analysis/ib/ib_store.h"

#include <stdexcept>

#include "core/store/ib_file.h"

namespace headscope::analysis::ib {

void write_ib_file(const std::string& path, const IbRunRecord& record, bool overwrite) {
  if (!record.result) throw std::invalid_argument("write_ib_file: no result");
  const AnnealResult& result = *record.result;
  const std::size_t steps = record.labels.size();
  if (!record.source_store.empty() &&
      (record.step_sample.size() != steps || record.step_span_start.size() != steps || record.step_span_end.size() != steps))
    throw std::invalid_argument("write_ib_file: the steps' samples and spans must have one entry per step");
  store::IbFile f;
  f.command_line = record.command_line;
  f.input = record.input_source;
  f.settings_json = record.settings_json;
  f.info_xy = result.info_xy;
  f.split_gain_floor = result.split_gain_floor;
  f.step_count = static_cast<std::int64_t>(steps);
  f.label_names = record.label_names;
  f.step_label = record.labels;
  f.step_cell = record.step_cell;
  f.step_cluster = record.step_assignment;
  f.step_membership = record.step_membership;
  if (!record.source_store.empty()) {
    f.has_source = true;
    f.source_store_path = record.source_store;
    f.source_store_created = record.source_store_created;
    f.source_steps = {record.step_sample, record.step_span_start, record.step_span_end};
  }
  for (const TransitionEvent& e : result.history)
    f.history.push_back({static_cast<int>(e.kind), e.beta, e.beta_critical, e.info_xt, e.info_ty, e.gain, e.cluster_count,
                         e.parent, e.cluster, e.size_a, e.size_b, e.iterations});
  for (const CurvePoint& p : result.curve) {
    f.curve_beta.push_back(p.beta);
    f.curve_info_xt.push_back(p.info_xt);
    f.curve_info_ty.push_back(p.info_ty);
    f.curve_cluster_entropy.push_back(p.cluster_entropy);
    f.curve_clusters.push_back(p.cluster_count);
    f.curve_converged.push_back(p.converged ? 1 : 0);
    f.curve_iterations.push_back(p.iterations);
  }
  double final_info = 0;
  for (const AibMerge& m : record.merges) final_info += m.cost;
  for (const AibMerge& m : record.merges) {
    f.merge_kept.push_back(m.kept);
    f.merge_absorbed.push_back(m.absorbed);
    f.merge_clusters_after.push_back(m.clusters_after);
    f.merge_cost.push_back(m.cost);
    f.merge_cost_fraction.push_back(final_info > 0 ? m.cost / final_info : 0.0);
    f.merge_info_ty_after.push_back(m.info_ty_after);
  }
  for (const ElbowRow& row : record.elbow) {
    f.elbow_threshold.push_back(row.threshold);
    f.elbow_clusters_nats.push_back(row.clusters_nats);
    f.elbow_clusters_fraction.push_back(row.clusters_fraction);
    f.elbow_clusters_split.push_back(row.clusters_split);
    f.elbow_beta_split.push_back(row.beta_split);
  }
  for (const ClusterSummary& c : record.clusters)
    f.clusters.push_back({c.id, c.parent, c.majority_label, c.mass, c.size, c.label_distribution, c.label_counts, c.examples});
  store::write_ib_file(path, f, overwrite);
}

}  // namespace headscope::analysis::ib
