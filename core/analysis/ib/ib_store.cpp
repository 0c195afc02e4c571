// HDF5 output of an IB run (see ib_store.h), on the HDF5 C API and its H5LT helpers.
#include "core/analysis/ib/ib_store.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "core/version.h"
#include "core/util/time.h"

namespace headscope::analysis::ib {
namespace {

class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file_ < 0) throw std::runtime_error(path + ": cannot create the HDF5 file");
  }
  ~Writer() {
    for (auto it = groups_.rbegin(); it != groups_.rend(); ++it) H5Gclose(*it);
    if (file_ >= 0) H5Fclose(file_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  hid_t file() const { return file_; }
  hid_t group(const std::string& name) {
    const hid_t id = H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    check(id, "create group " + name);
    groups_.push_back(id);
    return id;
  }
  void check(herr_t status, const std::string& what) const {
    if (status < 0) throw std::runtime_error(path_ + ": cannot " + what);
  }
  void attribute(hid_t object, const char* name, const std::string& value) {
    check(H5LTset_attribute_string(object, ".", name, value.c_str()), std::string("write attribute ") + name);
  }
  void attribute(hid_t object, const char* name, long value) {
    check(H5LTset_attribute_long(object, ".", name, &value, 1), std::string("write attribute ") + name);
  }
  void attribute(hid_t object, const char* name, double value) {
    check(H5LTset_attribute_double(object, ".", name, &value, 1), std::string("write attribute ") + name);
  }
  void describe(hid_t location, const std::string& name, const std::string& units, const std::string& description) {
    check(H5LTset_attribute_string(location, name.c_str(), "units", units.c_str()), "describe " + name);
    check(H5LTset_attribute_string(location, name.c_str(), "description", description.c_str()), "describe " + name);
  }
  void doubles(hid_t location, const std::string& name, const std::vector<double>& values, std::vector<hsize_t> dims,
               const std::string& units, const std::string& description) {
    if (dims.empty()) dims = {values.size()};
    check(H5LTmake_dataset_double(location, name.c_str(), static_cast<int>(dims.size()), dims.data(), values.data()),
          "write " + name);
    describe(location, name, units, description);
  }
  void ints(hid_t location, const std::string& name, const std::vector<int>& values, std::vector<hsize_t> dims,
            const std::string& units, const std::string& description) {
    if (dims.empty()) dims = {values.size()};
    check(H5LTmake_dataset_int(location, name.c_str(), static_cast<int>(dims.size()), dims.data(), values.data()),
          "write " + name);
    describe(location, name, units, description);
  }
  void longs(hid_t location, const std::string& name, const std::vector<long>& values, std::vector<hsize_t> dims,
             const std::string& units, const std::string& description) {
    if (dims.empty()) dims = {values.size()};
    check(H5LTmake_dataset_long(location, name.c_str(), static_cast<int>(dims.size()), dims.data(), values.data()),
          "write " + name);
    describe(location, name, units, description);
  }
  void strings(hid_t location, const std::string& name, const std::vector<std::string>& values,
               const std::string& description) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hsize_t count = values.size();
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t dataset = H5Dcreate2(location, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<const char*> pointers;
    for (const std::string& v : values) pointers.push_back(v.c_str());
    const herr_t status = dataset < 0 ? -1 : (count ? H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) : 0);
    if (dataset >= 0) H5Dclose(dataset);
    H5Sclose(space);
    H5Tclose(type);
    check(status, "write " + name);
    describe(location, name, "1", description);
  }

 private:
  std::string path_;
  hid_t file_ = -1;
  std::vector<hid_t> groups_;
};


// /ib/source: the capture store the steps came from and each step's sample and token span in it.
void write_source(Writer& w, const std::string& path, const IbRunRecord& record) {
  const std::size_t steps = record.labels.size();
  if (record.step_sample.size() != steps || record.step_span_start.size() != steps || record.step_span_end.size() != steps)
    throw std::invalid_argument("write_ib_file: the steps' samples and spans must have one entry per step");
  namespace fs = std::filesystem;
  const fs::path store = fs::absolute(record.source_store).lexically_normal();
  const fs::path folder = fs::absolute(path).lexically_normal().parent_path();
  const hid_t source = w.group("/ib/source");
  w.attribute(source, "description", std::string(
      "The HeadScope capture store whose step-span embeddings were the input, and where each step is in it."));
  w.attribute(source, "store_path", store.string());
  w.attribute(source, "store_path_relative", store.lexically_relative(folder).string());
  w.attribute(source, "store_created", record.source_store_created);
  w.longs(source, "sample", std::vector<long>(record.step_sample.begin(), record.step_sample.end()), {}, "1",
          "[step] index of the step's sample in the store");
  w.ints(source, "span_start", std::vector<int>(record.step_span_start.begin(), record.step_span_start.end()), {}, "tokens",
         "[step] first token of the step's span, relative to its sample");
  w.ints(source, "span_end", std::vector<int>(record.step_span_end.begin(), record.step_span_end.end()), {}, "tokens",
         "[step] one past the last token of the step's span");
}

}  // namespace

void write_ib_file(const std::string& path, const IbRunRecord& record) {
  if (!record.result) throw std::invalid_argument("write_ib_file: no result");
  const AnnealResult& result = *record.result;
  const int label_count = static_cast<int>(record.label_names.size());
  Writer w(path);
  w.attribute(w.file(), "format", std::string("headscope"));
  w.attribute(w.file(), "schema_version", 1L);
  w.attribute(w.file(), "kind", std::string("ib"));
  w.attribute(w.file(), "created", headscope::utc_now_iso());
  w.attribute(w.file(), "tool_version", std::string(HEADSCOPE_VERSION));
  w.attribute(w.file(), "command_line", record.command_line);

  const hid_t ib = w.group("/ib");
  w.attribute(ib, "input", record.input_source);
  w.attribute(ib, "settings_json", record.settings_json);
  w.attribute(ib, "I_XY", result.info_xy);
  w.attribute(ib, "split_gain_floor", result.split_gain_floor);
  w.attribute(ib, "step_count", static_cast<long>(record.labels.size()));
  w.attribute(ib, "description", std::string(
      "Information Bottleneck of step embeddings X against labels Y by deterministic annealing with cluster "
      "splitting; all information quantities in nats (natural logarithm)."));
  w.strings(ib, "label_names", record.label_names, "name of each label value Y, indexed by the label columns");
  w.ints(ib, "step_label", record.labels, {}, "1", "[step] label index of each step");
  w.ints(ib, "step_cell", record.step_cell, {}, "1", "[step] spherical k-means cell of each step");
  w.ints(ib, "step_cluster", record.step_assignment, {}, "1", "[step] final cluster index (argmax q(t|x)) of each step");
  if (!record.step_membership.empty())
    w.doubles(ib, "step_membership", record.step_membership, {}, "1", "[step] q(t|x) of the step's cluster (step_cluster)");
  if (!record.source_store.empty()) write_source(w, path, record);

  const hid_t history = w.group("/ib/history");
  std::vector<double> beta, beta_critical, info_xt, info_ty, gain, size_a, size_b;
  std::vector<int> cluster_count, parent, cluster, kind, iterations;
  for (const TransitionEvent& e : result.history) {
    beta.push_back(e.beta);
    beta_critical.push_back(e.beta_critical);
    info_xt.push_back(e.info_xt);
    info_ty.push_back(e.info_ty);
    gain.push_back(e.gain);
    size_a.push_back(e.size_a);
    size_b.push_back(e.size_b);
    cluster_count.push_back(e.cluster_count);
    parent.push_back(e.parent);
    cluster.push_back(e.cluster);
    kind.push_back(static_cast<int>(e.kind));
    iterations.push_back(e.iterations);
  }
  w.attribute(history, "kind_names", std::string("0=split,1=reabsorb,2=merge_back,3=nonconverged"));
  w.doubles(history, "beta", beta, {}, "1", "[event] grid beta at which the event happened");
  w.doubles(history, "beta_critical", beta_critical, {}, "1", "[event] estimated critical beta of a split (beta/growth factor, or bisection)");
  w.ints(history, "cluster_count", cluster_count, {}, "1", "[event] number of clusters K after the event");
  w.doubles(history, "I_XT", info_xt, {}, "nats", "[event] I(X;T) after the event");
  w.doubles(history, "I_TY", info_ty, {}, "nats", "[event] I(T;Y) after the event");
  w.doubles(history, "gain", gain, {}, "nats", "[event] immediate gain (p_a+p_b)*JS_pi(q(y|a),q(y|b)) of the split concerned");
  w.ints(history, "parent", parent, {}, "1", "[event] split: id of the cluster that split; reabsorb: id of the absorbing cluster; -1 none");
  w.ints(history, "cluster", cluster, {}, "1", "[event] split: id of the new cluster; reabsorb/merge_back: id concerned; -1 none");
  w.ints(history, "kind", kind, {}, "1", "[event] 0 split, 1 reabsorb (surface tension), 2 merge_back (gain below floor), 3 nonconverged");
  w.doubles(history, "size_a", size_a, {}, "steps", "[event] steps in the first half of the split concerned");
  w.doubles(history, "size_b", size_b, {}, "steps", "[event] steps in the second half of the split concerned");
  w.ints(history, "iterations", iterations, {}, "1", "[event] iterations of the convergence concerned");

  const hid_t curve = w.group("/ib/curve");
  std::vector<double> curve_beta, curve_xt, curve_ty, curve_h;
  std::vector<int> curve_k, curve_converged, curve_iterations;
  for (const CurvePoint& p : result.curve) {
    curve_beta.push_back(p.beta);
    curve_xt.push_back(p.info_xt);
    curve_ty.push_back(p.info_ty);
    curve_h.push_back(p.cluster_entropy);
    curve_k.push_back(p.cluster_count);
    curve_converged.push_back(p.converged ? 1 : 0);
    curve_iterations.push_back(p.iterations);
  }
  w.doubles(curve, "beta", curve_beta, {}, "1", "[grid] beta of each annealing step (geometric grid)");
  w.doubles(curve, "I_XT", curve_xt, {}, "nats", "[grid] I(X;T) of the solution at beta");
  w.doubles(curve, "I_TY", curve_ty, {}, "nats", "[grid] I(T;Y) of the solution at beta");
  w.doubles(curve, "H_T", curve_h, {}, "nats", "[grid] entropy H(T) of the cluster masses");
  w.ints(curve, "K", curve_k, {}, "1", "[grid] number of clusters at beta");
  w.ints(curve, "converged", curve_converged, {}, "1", "[grid] 1 when the fixed-point iteration converged at beta");
  w.ints(curve, "iterations", curve_iterations, {}, "1", "[grid] iterations of the convergence at beta");

  const hid_t aib = w.group("/ib/aib");
  std::vector<int> kept, absorbed, after;
  std::vector<double> cost, fraction, info_after;
  double final_info = 0;
  for (const AibMerge& m : record.merges) final_info += m.cost;
  for (const AibMerge& m : record.merges) {
    kept.push_back(m.kept);
    absorbed.push_back(m.absorbed);
    after.push_back(m.clusters_after);
    cost.push_back(m.cost);
    fraction.push_back(final_info > 0 ? m.cost / final_info : 0.0);
    info_after.push_back(m.info_ty_after);
  }
  w.ints(aib, "kept", kept, {}, "1", "[merge] id of the surviving cluster");
  w.ints(aib, "absorbed", absorbed, {}, "1", "[merge] id of the cluster merged into it");
  w.doubles(aib, "cost", cost, {}, "nats", "[merge] I(T;Y) lost: (p_a+p_b)*JS_pi; the costs add up to the final I(T;Y)");
  w.doubles(aib, "cost_fraction", fraction, {}, "1", "[merge] cost as a fraction of the final I(T;Y)");
  w.ints(aib, "clusters_after", after, {}, "1", "[merge] clusters left after the merge");
  w.doubles(aib, "I_TY_after", info_after, {}, "nats", "[merge] I(T;Y) left after the merge");
  std::vector<double> threshold;
  std::vector<int> elbow_nats, elbow_fraction;
  for (const ElbowRow& row : record.elbow) {
    threshold.push_back(row.threshold);
    elbow_nats.push_back(row.clusters_nats);
    elbow_fraction.push_back(row.clusters_fraction);
  }
  w.doubles(aib, "elbow_threshold", threshold, {}, "nats or 1", "[threshold] gain thresholds of the elbow table");
  w.ints(aib, "elbow_clusters_nats", elbow_nats, {}, "1", "[threshold] clusters left when merges stop at the first cost >= threshold nats");
  w.ints(aib, "elbow_clusters_fraction", elbow_fraction, {}, "1", "[threshold] the same with cost as a fraction of the final I(T;Y)");

  const hid_t clusters = w.group("/ib/clusters");
  const hsize_t cluster_total = record.clusters.size();
  std::vector<int> id, parent_id, majority;
  std::vector<double> mass, distribution;
  std::vector<long> size, label_counts, examples;
  size_t example_width = 0;
  for (const ClusterSummary& c : record.clusters) example_width = std::max(example_width, c.examples.size());
  for (const ClusterSummary& c : record.clusters) {
    id.push_back(c.id);
    parent_id.push_back(c.parent);
    majority.push_back(c.majority_label);
    mass.push_back(c.mass);
    size.push_back(static_cast<long>(c.size));
    distribution.insert(distribution.end(), c.label_distribution.begin(), c.label_distribution.end());
    for (std::int64_t v : c.label_counts) label_counts.push_back(static_cast<long>(v));
    for (size_t k = 0; k < example_width; ++k) examples.push_back(k < c.examples.size() ? static_cast<long>(c.examples[k]) : -1L);
  }
  w.ints(clusters, "id", id, {}, "1", "[cluster] stable id (as in the history)");
  w.ints(clusters, "parent", parent_id, {}, "1", "[cluster] id of the cluster it split from, -1 for the first");
  w.doubles(clusters, "mass", mass, {}, "1", "[cluster] q(t)");
  w.longs(clusters, "size", size, {}, "steps", "[cluster] steps assigned (argmax q(t|x))");
  w.ints(clusters, "majority_label", majority, {}, "1", "[cluster] most frequent label index among its steps");
  if (cluster_total > 0 && label_count > 0) {
    w.doubles(clusters, "label_distribution", distribution, {cluster_total, static_cast<hsize_t>(label_count)}, "1",
              "[cluster, label] q(y|t)");
    w.longs(clusters, "label_counts", label_counts, {cluster_total, static_cast<hsize_t>(label_count)}, "steps",
            "[cluster, label] label counts of the steps assigned to the cluster");
  }
  if (cluster_total > 0 && example_width > 0)
    w.longs(clusters, "examples", examples, {cluster_total, static_cast<hsize_t>(example_width)}, "1",
            "[cluster, example] step indices with the highest q(t|x), -1 padded");
}

}  // namespace headscope::analysis::ib
