// Writer and reader of IB result files (see ib_file.h). Sections: 1. writing  2. reading.
#include "core/store/ib_file.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/store/file_header.h"
#include "core/store/result_io.h"

namespace headscope::store {

namespace io = result_io;
using h5::Id;

namespace {

// A [dim] column of one field of a list of rows.
template <typename Row, typename Field>
auto column(const std::vector<Row>& rows, Field field) {
  std::vector<std::decay_t<decltype(rows[0].*field)>> out;
  for (const Row& row : rows) out.push_back(row.*field);
  return out;
}

std::vector<std::int32_t> int32s(const std::vector<int>& values) { return {values.begin(), values.end()}; }

void write_source(hid_t ib, const std::string& path, const IbFile& f, const std::string& context) {
  const IbStepSpans& steps = f.source_steps;
  const std::size_t count = f.step_label.size();
  if (steps.sample.size() != count || steps.span_start.size() != count || steps.span_end.size() != count)
    throw StoreError(path + ": the steps' samples and spans must have one entry per step");
  namespace fs = std::filesystem;
  const fs::path store = fs::absolute(f.source_store_path).lexically_normal();
  const fs::path folder = fs::absolute(path).lexically_normal().parent_path();
  Id source = h5::create_group(ib, "source", context);
  h5::write_attribute(source, "description", std::string(
      "The HeadScope capture store whose step-span embeddings were the input, and where each step is in it."));
  h5::write_attribute(source, "store_path", store.string());
  h5::write_attribute(source, "store_path_relative", store.lexically_relative(folder).string());
  h5::write_attribute(source, "store_created", f.source_store_created);
  io::write_int64s(source, "sample", steps.sample, {{}, {"step"}, "1", "[step] index of the step's sample in the store"}, context);
  io::write_int32s(source, "span_start", steps.span_start, {{}, {"step"}, "tokens",
                   "[step] first token of the step's span, relative to its sample"}, context);
  io::write_int32s(source, "span_end", steps.span_end, {{}, {"step"}, "tokens", "[step] one past the last token of the step's span"},
                   context);
}

}  // namespace

// 1. Writing -----------------------------------------------------------------------------------------------
void write_ib_file(const std::string& path, const IbFile& f, bool overwrite) {
  io::ResultFile out(path, RunKind::ib, f.command_line, true, overwrite);
  const Id& file = out.file;
  const std::string& ctx = out.temp.path();
  Id ib = h5::create_group(file, "/ib", ctx);
  h5::write_attribute(ib, "input", f.input);
  h5::write_attribute(ib, "settings_json", f.settings_json);
  h5::write_attribute(ib, "I_XY", f.info_xy);
  h5::write_attribute(ib, "split_gain_floor", f.split_gain_floor);
  h5::write_attribute(ib, "step_count", static_cast<std::int64_t>(f.step_label.size()));
  h5::write_attribute(ib, "description", std::string(
      "Information Bottleneck of step embeddings X against labels Y by deterministic annealing with cluster "
      "splitting; all information quantities in nats (natural logarithm)."));
  io::write_strings(ib, "label_names", f.label_names, "name of each label value Y, indexed by the label columns", ctx);
  io::write_int32s(ib, "step_label", int32s(f.step_label), {{}, {"step"}, "1", "[step] label index of each step"}, ctx);
  io::write_int32s(ib, "step_cell", int32s(f.step_cell), {{}, {"step"}, "1", "[step] spherical k-means cell of each step"}, ctx);
  io::write_int32s(ib, "step_cluster", int32s(f.step_cluster), {{}, {"step"}, "1",
                   "[step] final cluster index (argmax q(t|x)) of each step"}, ctx);
  if (!f.step_membership.empty())
    io::write_doubles(ib, "step_membership", f.step_membership, {{}, {"step"}, "1",
                      "[step] q(t|x) of the step's cluster (step_cluster)"}, ctx);
  if (f.has_source) write_source(ib, path, f, ctx);

  Id history = h5::create_group(ib, "history", ctx);
  const auto& h = f.history;
  const std::vector<std::string> event{"event"};
  h5::write_attribute(history, "kind_names", std::string("0=split,1=reabsorb,2=merge_back,3=nonconverged"));
  io::write_doubles(history, "beta", column(h, &IbEvent::beta), {{}, event, "1", "[event] grid beta at which the event happened"}, ctx);
  io::write_doubles(history, "beta_critical", column(h, &IbEvent::beta_critical), {{}, event, "1",
                    "[event] estimated critical beta of a split (beta/growth factor, or bisection)"}, ctx);
  io::write_int32s(history, "cluster_count", int32s(column(h, &IbEvent::cluster_count)), {{}, event, "1",
                   "[event] number of clusters K after the event"}, ctx);
  io::write_doubles(history, "I_XT", column(h, &IbEvent::info_xt), {{}, event, "nats", "[event] I(X;T) after the event"}, ctx);
  io::write_doubles(history, "I_TY", column(h, &IbEvent::info_ty), {{}, event, "nats", "[event] I(T;Y) after the event"}, ctx);
  io::write_doubles(history, "gain", column(h, &IbEvent::gain), {{}, event, "nats",
                    "[event] immediate gain (p_a+p_b)*JS_pi(q(y|a),q(y|b)) of the split concerned"}, ctx);
  io::write_int32s(history, "parent", int32s(column(h, &IbEvent::parent)), {{}, event, "1",
                   "[event] split: id of the cluster that split; reabsorb: id of the absorbing cluster; -1 none"}, ctx);
  io::write_int32s(history, "cluster", int32s(column(h, &IbEvent::cluster)), {{}, event, "1",
                   "[event] split: id of the new cluster; reabsorb/merge_back: id concerned; -1 none"}, ctx);
  io::write_int32s(history, "kind", int32s(column(h, &IbEvent::kind)), {{}, event, "1",
                   "[event] 0 split, 1 reabsorb (surface tension), 2 merge_back (gain below floor), 3 nonconverged"}, ctx);
  io::write_doubles(history, "size_a", column(h, &IbEvent::size_a), {{}, event, "steps",
                    "[event] steps in the first half of the split concerned"}, ctx);
  io::write_doubles(history, "size_b", column(h, &IbEvent::size_b), {{}, event, "steps",
                    "[event] steps in the second half of the split concerned"}, ctx);
  io::write_int32s(history, "iterations", int32s(column(h, &IbEvent::iterations)), {{}, event, "1",
                   "[event] iterations of the convergence concerned"}, ctx);

  Id curve = h5::create_group(ib, "curve", ctx);
  const std::vector<std::string> grid{"grid"};
  io::write_doubles(curve, "beta", f.curve_beta, {{}, grid, "1", "[grid] beta of each annealing step (geometric grid)"}, ctx);
  io::write_doubles(curve, "I_XT", f.curve_info_xt, {{}, grid, "nats", "[grid] I(X;T) of the solution at beta"}, ctx);
  io::write_doubles(curve, "I_TY", f.curve_info_ty, {{}, grid, "nats", "[grid] I(T;Y) of the solution at beta"}, ctx);
  io::write_doubles(curve, "H_T", f.curve_cluster_entropy, {{}, grid, "nats", "[grid] entropy H(T) of the cluster masses"}, ctx);
  io::write_int32s(curve, "K", int32s(f.curve_clusters), {{}, grid, "1", "[grid] number of clusters at beta"}, ctx);
  io::write_int32s(curve, "converged", int32s(f.curve_converged), {{}, grid, "1",
                   "[grid] 1 when the fixed-point iteration converged at beta"}, ctx);
  io::write_int32s(curve, "iterations", int32s(f.curve_iterations), {{}, grid, "1", "[grid] iterations of the convergence at beta"}, ctx);

  Id aib = h5::create_group(ib, "aib", ctx);
  const std::vector<std::string> merge{"merge"}, threshold{"threshold"};
  io::write_int32s(aib, "kept", int32s(f.merge_kept), {{}, merge, "1", "[merge] id of the surviving cluster"}, ctx);
  io::write_int32s(aib, "absorbed", int32s(f.merge_absorbed), {{}, merge, "1", "[merge] id of the cluster merged into it"}, ctx);
  io::write_doubles(aib, "cost", f.merge_cost, {{}, merge, "nats",
                    "[merge] I(T;Y) lost: (p_a+p_b)*JS_pi; the costs add up to the final I(T;Y)"}, ctx);
  io::write_doubles(aib, "cost_fraction", f.merge_cost_fraction, {{}, merge, "1", "[merge] cost as a fraction of the final I(T;Y)"}, ctx);
  io::write_int32s(aib, "clusters_after", int32s(f.merge_clusters_after), {{}, merge, "1", "[merge] clusters left after the merge"}, ctx);
  io::write_doubles(aib, "I_TY_after", f.merge_info_ty_after, {{}, merge, "nats", "[merge] I(T;Y) left after the merge"}, ctx);
  io::write_doubles(aib, "elbow_threshold", f.elbow_threshold, {{}, threshold, "nats or 1",
                    "[threshold] gain thresholds of the elbow table"}, ctx);
  io::write_int32s(aib, "elbow_clusters_nats", int32s(f.elbow_clusters_nats), {{}, threshold, "1",
                   "[threshold] clusters left when merges stop at the first cost >= threshold nats"}, ctx);
  io::write_int32s(aib, "elbow_clusters_fraction", int32s(f.elbow_clusters_fraction), {{}, threshold, "1",
                   "[threshold] the same with cost as a fraction of the final I(T;Y)"}, ctx);
  // One length along `threshold` (netCDF): a writer that did not fill the split columns gets 0 / NaN rows.
  std::vector<int> clusters_split = f.elbow_clusters_split;
  std::vector<double> beta_split = f.elbow_beta_split;
  clusters_split.resize(f.elbow_threshold.size(), 0);
  beta_split.resize(f.elbow_threshold.size(), std::nan(""));
  io::write_int32s(aib, "elbow_clusters_split", int32s(clusters_split), {{}, threshold, "1",
                   "[threshold] the earlier pipeline's reading: clusters alive at the first beta after which no split of "
                   "the annealing gains >= threshold nats of I(T;Y)"}, ctx);
  io::write_doubles(aib, "elbow_beta_split", beta_split, {{}, threshold, "1",
                    "[threshold] that beta: of the last split gaining >= threshold (NaN: no such split)"}, ctx);

  Id clusters = h5::create_group(ib, "clusters", ctx);
  const auto& c = f.clusters;
  const hsize_t cluster_total = c.size(), label_count = f.label_names.size();
  const std::vector<std::string> by_cluster{"cluster"};
  std::size_t example_width = 0;
  for (const IbCluster& cluster : c) example_width = std::max(example_width, cluster.examples.size());
  std::vector<double> distribution;
  std::vector<std::int64_t> label_counts, examples;
  for (const IbCluster& cluster : c) {
    distribution.insert(distribution.end(), cluster.label_distribution.begin(), cluster.label_distribution.end());
    label_counts.insert(label_counts.end(), cluster.label_counts.begin(), cluster.label_counts.end());
    for (std::size_t k = 0; k < example_width; ++k) examples.push_back(k < cluster.examples.size() ? cluster.examples[k] : -1);
  }
  io::write_int32s(clusters, "id", int32s(column(c, &IbCluster::id)), {{}, by_cluster, "1", "[cluster] stable id (as in the history)"}, ctx);
  io::write_int32s(clusters, "parent", int32s(column(c, &IbCluster::parent)), {{}, by_cluster, "1",
                   "[cluster] id of the cluster it split from, -1 for the first"}, ctx);
  io::write_doubles(clusters, "mass", column(c, &IbCluster::mass), {{}, by_cluster, "1", "[cluster] q(t)"}, ctx);
  io::write_int64s(clusters, "size", column(c, &IbCluster::size), {{}, by_cluster, "steps", "[cluster] steps assigned (argmax q(t|x))"}, ctx);
  io::write_int32s(clusters, "majority_label", int32s(column(c, &IbCluster::majority_label)), {{}, by_cluster, "1",
                   "[cluster] most frequent label index among its steps"}, ctx);
  if (cluster_total > 0 && label_count > 0) {
    io::write_doubles(clusters, "label_distribution", distribution, {{cluster_total, label_count}, {"cluster", "label"}, "1",
                      "[cluster, label] q(y|t)"}, ctx);
    io::write_int64s(clusters, "label_counts", label_counts, {{cluster_total, label_count}, {"cluster", "label"}, "steps",
                     "[cluster, label] label counts of the steps assigned to the cluster"}, ctx);
  }
  if (cluster_total > 0 && example_width > 0)
    io::write_int64s(clusters, "examples", examples, {{cluster_total, example_width}, {"cluster", "example"}, "1",
                     "[cluster, example] step indices with the highest q(t|x), -1 padded"}, ctx);
  clusters.reset();
  aib.reset();
  curve.reset();
  history.reset();
  ib.reset();
  io::finish(out);
}

// 2. Reading -----------------------------------------------------------------------------------------------
// Every index the views follow (a step's label and cluster, a cluster's label and example steps, a source
// step's sample and span) inside what it indexes, so a damaged value is a StoreError, not a bad index.
static void check_ib_indices(const IbFile& ib) {
  const auto labels = static_cast<std::int64_t>(ib.label_names.size()), clusters = static_cast<std::int64_t>(ib.clusters.size());
  const std::int64_t steps = ib.step_count;
  auto require = [&](bool ok, const std::string& dataset, std::size_t row, const std::string& what) {
    if (!ok) throw StoreError(ib.path + ": /ib/" + dataset + " row " + std::to_string(row) + ": " + what + " (damaged file?)");
  };
  require(steps >= 0, "step_count", 0, "negative step count");
  for (const auto* column : {&ib.step_label, &ib.step_cell, &ib.step_cluster})
    require(column->empty() || static_cast<std::int64_t>(column->size()) == steps, "step_*", column->size(),
            "a per-step array is not as long as step_count " + std::to_string(steps));
  for (std::size_t i = 0; i < ib.step_label.size(); ++i)
    require(ib.step_label[i] >= 0 && ib.step_label[i] < labels, "step_label", i, "label outside the " + std::to_string(labels) + " labels");
  for (std::size_t i = 0; i < ib.step_cluster.size(); ++i)
    require(ib.step_cluster[i] >= 0 && ib.step_cluster[i] < clusters, "step_cluster", i,
            "cluster outside the " + std::to_string(clusters) + " clusters");
  for (std::size_t c = 0; c < ib.clusters.size(); ++c) {
    const IbCluster& cluster = ib.clusters[c];
    require(cluster.majority_label >= -1 && cluster.majority_label < labels, "clusters/majority_label", c, "label outside the labels");
    for (std::int64_t example : cluster.examples)
      require(example < steps, "clusters/examples", c, "example step " + std::to_string(example) + " outside the " + std::to_string(steps) + " steps");
  }
  const IbStepSpans& source = ib.source_steps;
  for (std::size_t i = 0; i < source.step_count(); ++i) {
    require(source.sample[i] >= 0, "source/sample", i, "negative sample index");
    require(source.span_start[i] >= 0 && source.span_start[i] <= source.span_end[i], "source/span_start", i, "span ends before it starts");
  }
}

std::shared_ptr<const IbFile> read_ib_file(const std::string& path) {
  Id file = io::open_read_only(path);
  io::require_kind(file, RunKind::ib, "/ib", path);
  auto data = std::make_shared<IbFile>();
  const RootAttributes root = read_root_attributes(file, path);
  data->path = path;
  data->command_line = root.command_line;
  data->created = root.created;
  Id ib = h5::open_group(file, "/ib", path);
  data->input = io::string_or(ib, "input", path);
  data->settings_json = io::string_or(ib, "settings_json", path);
  data->info_xy = io::double_or(ib, "I_XY", path);
  data->split_gain_floor = io::double_or(ib, "split_gain_floor", path);
  data->step_count = io::int_or(ib, "step_count", path);
  if (h5::link_exists(ib, "label_names")) data->label_names = io::string_dataset(ib, "label_names", path);
  // Optional columns (older files lack some), as double or int, padded to `size`.
  auto doubles_or = [&](hid_t group, const std::string& name, std::size_t size, double fill) {
    std::vector<double> v = h5::link_exists(group, name) ? io::doubles(group, name, path) : std::vector<double>();
    v.resize(size, fill);
    return v;
  };
  auto ints_or = [&](hid_t group, const std::string& name, std::size_t size, int fill) {
    std::vector<int> v = h5::link_exists(group, name) ? io::ints(group, name, path) : std::vector<int>();
    v.resize(size, fill);
    return v;
  };
  {
    Id history = h5::open_group(ib, "history", path);
    const auto beta = io::doubles(history, "beta", path);
    const std::size_t n = beta.size();
    const auto beta_critical = h5::link_exists(history, "beta_critical") ? io::doubles(history, "beta_critical", path) : beta;
    const auto info_xt = doubles_or(history, "I_XT", n, 0), info_ty = doubles_or(history, "I_TY", n, 0),
               gain = doubles_or(history, "gain", n, 0), size_a = doubles_or(history, "size_a", n, 0),
               size_b = doubles_or(history, "size_b", n, 0);
    const auto kind = ints_or(history, "kind", n, 0), clusters = ints_or(history, "cluster_count", n, 0),
               parent = ints_or(history, "parent", n, -1), cluster = ints_or(history, "cluster", n, -1),
               iterations = ints_or(history, "iterations", n, 0);
    for (std::size_t i = 0; i < n; ++i)
      data->history.push_back({kind[i], beta[i], i < beta_critical.size() ? beta_critical[i] : beta[i], info_xt[i], info_ty[i],
                               gain[i], clusters[i], parent[i], cluster[i], size_a[i], size_b[i], iterations[i]});
  }
  {
    Id curve = h5::open_group(ib, "curve", path);
    data->curve_beta = io::doubles(curve, "beta", path);
    data->curve_info_xt = io::doubles(curve, "I_XT", path);
    data->curve_info_ty = io::doubles(curve, "I_TY", path);
    const std::size_t n = data->curve_beta.size();
    if (data->curve_info_xt.size() != n || data->curve_info_ty.size() != n)
      throw StoreError(path + ": /ib/curve datasets differ in length");
    data->curve_clusters = io::ints(curve, "K", path);
    data->curve_converged = io::ints(curve, "converged", path);
    data->curve_clusters.resize(n, 0);
    data->curve_converged.resize(n, 1);
    data->curve_cluster_entropy = doubles_or(curve, "H_T", n, 0);
    data->curve_iterations = ints_or(curve, "iterations", n, 0);
  }
  {
    Id aib = h5::open_group(ib, "aib", path);
    data->merge_cost = io::doubles(aib, "cost", path);
    const std::size_t merges = data->merge_cost.size();
    data->merge_cost_fraction = io::doubles(aib, "cost_fraction", path);
    data->merge_info_ty_after = io::doubles(aib, "I_TY_after", path);
    data->merge_clusters_after = io::ints(aib, "clusters_after", path);
    data->merge_cost_fraction.resize(merges, 0);
    data->merge_info_ty_after.resize(merges, 0);
    data->merge_clusters_after.resize(merges, 0);
    data->merge_kept = ints_or(aib, "kept", merges, -1);
    data->merge_absorbed = ints_or(aib, "absorbed", merges, -1);
    data->elbow_threshold = io::doubles(aib, "elbow_threshold", path);
    const std::size_t rows = data->elbow_threshold.size();
    data->elbow_clusters_nats = io::ints(aib, "elbow_clusters_nats", path);
    data->elbow_clusters_fraction = io::ints(aib, "elbow_clusters_fraction", path);
    data->elbow_clusters_nats.resize(rows, 0);
    data->elbow_clusters_fraction.resize(rows, 0);
    data->elbow_clusters_split = ints_or(aib, "elbow_clusters_split", rows, 0);
    data->elbow_beta_split = h5::link_exists(aib, "elbow_beta_split") ? io::doubles(aib, "elbow_beta_split", path) : std::vector<double>();
    data->elbow_beta_split.resize(rows, std::nan(""));
  }
  {
    Id clusters = h5::open_group(ib, "clusters", path);
    const auto id = io::ints(clusters, "id", path);
    const std::size_t n = id.size(), labels = data->label_names.size();
    const auto parent = ints_or(clusters, "parent", n, -1), majority = ints_or(clusters, "majority_label", n, -1);
    const auto mass = doubles_or(clusters, "mass", n, 0), size = doubles_or(clusters, "size", n, 0);
    const auto distribution =
        h5::link_exists(clusters, "label_distribution") ? io::doubles(clusters, "label_distribution", path) : std::vector<double>();
    const auto counts = h5::link_exists(clusters, "label_counts") ? io::int64s(clusters, "label_counts", path) : std::vector<std::int64_t>();
    std::vector<std::int64_t> examples;
    std::size_t example_width = 0;
    if (h5::link_exists(clusters, "examples")) {
      examples = io::int64s(clusters, "examples", path);
      example_width = n ? examples.size() / n : 0;
    }
    for (std::size_t i = 0; i < n; ++i) {
      IbCluster c;
      c.id = id[i];
      c.parent = parent[i];
      c.majority_label = majority[i];
      c.mass = mass[i];
      c.size = static_cast<std::int64_t>(size[i]);
      const auto first = static_cast<std::ptrdiff_t>(i * labels), last = static_cast<std::ptrdiff_t>((i + 1) * labels);
      if (labels > 0 && distribution.size() >= (i + 1) * labels)
        c.label_distribution.assign(distribution.begin() + first, distribution.begin() + last);
      if (labels > 0 && counts.size() >= (i + 1) * labels) c.label_counts.assign(counts.begin() + first, counts.begin() + last);
      for (std::size_t k = 0; k < example_width; ++k)
        if (examples[i * example_width + k] >= 0) c.examples.push_back(examples[i * example_width + k]);
      data->clusters.push_back(std::move(c));
    }
  }
  if (h5::link_exists(ib, "step_label")) data->step_label = io::ints(ib, "step_label", path);
  if (h5::link_exists(ib, "step_cell")) data->step_cell = io::ints(ib, "step_cell", path);
  if (h5::link_exists(ib, "step_cluster")) data->step_cluster = io::ints(ib, "step_cluster", path);
  if (h5::link_exists(ib, "step_membership")) data->step_membership = io::doubles(ib, "step_membership", path);
  if (h5::link_exists(ib, "source")) {
    Id source = h5::open_group(ib, "source", path);
    data->has_source = true;
    data->source_store_path = io::string_or(source, "store_path", path);
    data->source_store_path_relative = io::string_or(source, "store_path_relative", path);
    data->source_store_created = io::string_or(source, "store_created", path);
    data->source_steps.sample = io::int64s(source, "sample", path);
    data->source_steps.span_start = io::int32s(source, "span_start", path);
    data->source_steps.span_end = io::int32s(source, "span_end", path);
    const std::size_t steps = data->source_steps.step_count();
    if (data->source_steps.span_start.size() != steps || data->source_steps.span_end.size() != steps ||
        (!data->step_cluster.empty() && data->step_cluster.size() != steps))
      throw StoreError(path + ": /ib/source datasets and /ib/step_cluster differ in length");
  }
  check_ib_indices(*data);
  return data;
}

}  // namespace headscope::store
