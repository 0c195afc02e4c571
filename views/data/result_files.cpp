// Readers of sweep and ib result files (see result_files.h), on core/store/h5.h and the HDF5 C API. Every
// dataset is read whole and converted by HDF5 to double or int; string lists come from fixed-width or
// variable-length attributes and datasets alike.
#include "views/data/result_files.h"

#include <hdf5.h>

#include <cmath>
#include <stdexcept>

#include "core/store/h5.h"
#include "views/data/ib_source_data.h"

namespace headscope::views {
namespace {

using h5::Id;

Id open_file(const std::string& path) {
  h5::quiet_errors();
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error(path + ": cannot open it as an HDF5 file");
  return Id(file);
}

std::string root_kind(hid_t file) {
  return h5::has_attribute(file, "kind") ? h5::read_string_attribute(file, "kind", "kind") : std::string();
}

hsize_t element_count(hid_t object, bool attribute) {
  Id space(attribute ? H5Aget_space(object) : H5Dget_space(object));
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  return points < 0 ? 0 : static_cast<hsize_t>(points);
}

template <typename T>
std::vector<T> read_numbers(hid_t group, const std::string& name, hid_t memory_type, const std::string& path) {
  if (!h5::link_exists(group, name)) throw std::runtime_error(path + ": dataset '" + name + "' is missing");
  Id dataset = h5::open_dataset(group, name, path);
  std::vector<T> values(element_count(dataset, false));
  if (!values.empty())
    h5::check_status(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path,
                     "cannot read '" + name + "'");
  return values;
}
std::vector<double> doubles(hid_t group, const std::string& name, const std::string& path) {
  return read_numbers<double>(group, name, H5T_NATIVE_DOUBLE, path);
}
std::vector<int> ints(hid_t group, const std::string& name, const std::string& path) {
  return read_numbers<int>(group, name, H5T_NATIVE_INT, path);
}

// A list of strings from an attribute (is_attribute) or a dataset, fixed-width or variable-length.
std::vector<std::string> read_strings(hid_t object, bool is_attribute, const std::string& what, const std::string& path) {
  Id type(is_attribute ? H5Aget_type(object) : H5Dget_type(object));
  if (H5Tget_class(type) != H5T_STRING) throw std::runtime_error(path + ": '" + what + "' is not a list of strings");
  const hsize_t count = element_count(object, is_attribute);
  std::vector<std::string> out;
  if (count == 0) return out;
  auto read = [&](hid_t memory_type, void* buffer) {
    const herr_t status = is_attribute ? H5Aread(object, memory_type, buffer)
                                       : H5Dread(object, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    h5::check_status(status, path, "cannot read '" + what + "'");
  };
  if (H5Tis_variable_str(type) > 0) {
    Id memory_type(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory_type, H5T_VARIABLE);
    H5Tset_cset(memory_type, H5Tget_cset(type));
    std::vector<char*> pointers(count, nullptr);
    read(memory_type, pointers.data());
    for (char* p : pointers) out.emplace_back(p ? p : "");
    Id space(is_attribute ? H5Aget_space(object) : H5Dget_space(object));
    H5Dvlen_reclaim(memory_type, space, H5P_DEFAULT, pointers.data());
  } else {
    const std::size_t width = H5Tget_size(type);
    Id memory_type(H5Tcopy(type));  // the file's own string type: same width, padding and character set
    std::vector<char> packed(count * width, '\0');
    read(memory_type, packed.data());
    for (hsize_t i = 0; i < count; ++i) {
      const char* begin = packed.data() + i * width;
      std::size_t length = 0;
      while (length < width && begin[length] != '\0') ++length;
      out.emplace_back(begin, length);
    }
  }
  return out;
}

std::vector<std::string> string_attribute_list(hid_t object, const std::string& name, const std::string& path) {
  if (!h5::has_attribute(object, name)) return {};
  Id attribute(h5::check(H5Aopen(object, name.c_str(), H5P_DEFAULT), path, "cannot open attribute '" + name + "'"));
  return read_strings(attribute, true, name, path);
}

std::vector<std::string> dataset_string_attribute(hid_t group, const std::string& dataset, const std::string& name,
                                                  const std::string& path) {
  if (!h5::link_exists(group, dataset)) return {};
  Id object = h5::open_dataset(group, dataset, path);
  return string_attribute_list(object, name, path);
}

std::string string_or(hid_t object, const std::string& name, const std::string& path, const std::string& fallback = "") {
  return h5::has_attribute(object, name) ? h5::read_string_attribute(object, name, path) : fallback;
}
std::int64_t int_or(hid_t object, const std::string& name, const std::string& path) {
  return h5::has_attribute(object, name) ? h5::read_int_attribute(object, name, path) : 0;
}
double double_or(hid_t object, const std::string& name, const std::string& path) {
  return h5::has_attribute(object, name) ? h5::read_double_attribute(object, name, path) : std::nan("");
}

void require_kind(hid_t file, const std::string& wanted, const std::string& group, const std::string& path) {
  const std::string kind = root_kind(file);
  if (kind != wanted)
    throw std::runtime_error(path + ": not " + (wanted == "ib" ? "an ib" : "a " + wanted) + " file (kind " +
                             (kind.empty() ? std::string("missing") : "'" + kind + "'") + ")");
  if (wanted == "sweep" && !h5::link_exists(file, group) && h5::link_exists(file, "/gain_scan"))
    throw std::runtime_error(path + ": a gain-scan file, not a sweep (no /sweep group; `headscope inspect` summarises it)");
  if (!h5::link_exists(file, group)) throw std::runtime_error(path + ": kind '" + wanted + "' but no " + group + " group");
}

SweepCheck read_check(hid_t sweep, const std::string& name, const std::string& path) {
  SweepCheck check;
  if (!h5::link_exists(sweep, "checks") || !h5::link_exists(sweep, "checks/" + name)) return check;
  Id group = h5::open_group(sweep, "checks/" + name, path);
  check.present = true;
  check.passed = int_or(group, "passed", path) != 0;
  check.bitwise = int_or(group, "bitwise", path) != 0;
  check.max_abs_difference = double_or(group, "max_abs_difference", path);
  check.tolerance = double_or(group, "tolerance", path);
  check.detail = string_or(group, "detail", path);
  return check;
}

}  // namespace

const char* sweep_metric_file_name(int metric) {
  static const char* const names[kSweepMetrics] = {"entropy", "max_attention", "k90"};
  return metric >= 0 && metric < kSweepMetrics ? names[metric] : "?";
}

std::size_t SweepData::conditions_done() const {
  std::size_t done = 0;
  for (std::size_t c = 0; c < condition_count(); ++c) done += condition_is_done(c);
  return done;
}

bool SweepData::scaling() const {
  for (double s : scales)
    if (!std::isfinite(s)) return false;
  return !scales.empty();
}

std::string headscope_file_kind(const std::string& path) {
  Id file = open_file(path);
  return root_kind(file);
}

bool is_result_file(const std::string& path) {
  try {
    Id file = open_file(path);
    const std::string kind = root_kind(file);
    return kind == "ib" || (kind == "sweep" && h5::link_exists(file, "/sweep"));
  } catch (const std::exception&) {
    return false;
  }
}

namespace {
// Checks that `file` is a result file of `kind` with its /kind group, and reads what every result file has:
// where it is and how it was made.
template <typename Data>
std::shared_ptr<Data> read_header(hid_t file, const std::string& kind, const std::string& path) {
  require_kind(file, kind, "/" + kind, path);
  auto data = std::make_shared<Data>();
  data->path = path;
  data->command_line = string_or(file, "command_line", path);
  data->created = string_or(file, "created", path);
  return data;
}
}  // namespace

std::shared_ptr<const SweepData> read_sweep_file(const std::string& path) {
  Id file = open_file(path);
  auto data = read_header<SweepData>(file, "sweep", path);
  if (h5::link_exists(file, "/model")) data->model_name = string_or(Id(h5::open_group(file, "/model", path)), "name", path);
  Id sweep = h5::open_group(file, "/sweep", path);
  data->intervention = string_or(sweep, "intervention", path);
  data->target = string_or(sweep, "target", path);
  data->null_result = string_or(sweep, "null_result", path);
  data->spread = string_or(sweep, "spread", path);
  data->expected_directions = string_attribute_list(sweep, "expected_directions", path);
  data->sample_count = int_or(sweep, "sample_count", path);
  data->token_count = int_or(sweep, "token_count", path);
  data->baseline_loss = double_or(sweep, "baseline_loss", path);
  data->scales = doubles(sweep, "scales", path);
  data->condition_names = dataset_string_attribute(sweep, "scales", "condition_names", path);
  data->head_names = dataset_string_attribute(sweep, "heads", "names", path);
  data->roles = dataset_string_attribute(sweep, "heads", "roles", path);
  if (data->head_names.empty()) {  // no names attribute: make them from the (layer, head) pairs
    const auto pairs = ints(sweep, "heads", path);
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2)
      data->head_names.push_back("L" + std::to_string(pairs[i]) + "H" + std::to_string(pairs[i + 1]));
  }
  data->roles.resize(data->head_names.size(), "control");
  data->condition_names.resize(data->scales.size());
  const std::size_t cells = data->scales.size() * data->head_names.size();
  for (int m = 0; m < kSweepMetrics; ++m) {
    const std::string metric = sweep_metric_file_name(m);
    data->mean[m] = doubles(sweep, metric + "_mean", path);
    data->spread_std[m] = doubles(sweep, metric + "_std", path);
    data->count[m] = doubles(sweep, metric + "_n", path);
    data->baseline_mean[m] = doubles(sweep, "baseline_" + metric + "_mean", path);
    data->baseline_std[m] = doubles(sweep, "baseline_" + metric + "_std", path);
    if (data->mean[m].size() != cells || data->spread_std[m].size() != cells || data->count[m].size() != cells)
      throw std::runtime_error(path + ": " + metric + "_mean/_std/_n are not [condition, head] = [" +
                               std::to_string(data->scales.size()) + ", " + std::to_string(data->head_names.size()) + "]");
    data->baseline_mean[m].resize(data->head_names.size(), std::nan(""));
    data->baseline_std[m].resize(data->head_names.size(), std::nan(""));
    data->trends[m] = dataset_string_attribute(sweep, "gain", std::string("trend_") + metric, path);
    data->trends[m].resize(data->head_names.size());
  }
  data->loss_delta = doubles(sweep, "loss_delta", path);
  data->loss_delta.resize(cells, std::nan(""));
  data->gain = doubles(sweep, "gain", path);
  data->gain_se = doubles(sweep, "gain_se", path);
  data->gain_r_squared = doubles(sweep, "gain_r_squared", path);
  data->gain_intercept = doubles(sweep, "gain_intercept", path);
  for (auto* v : {&data->gain, &data->gain_se, &data->gain_r_squared, &data->gain_intercept})
    v->resize(data->head_names.size(), std::nan(""));
  data->gain_notes = dataset_string_attribute(sweep, "gain", "notes", path);
  data->gain_notes.resize(data->head_names.size());
  data->ratio = doubles(sweep, "ratio", path);
  data->verdicts = dataset_string_attribute(sweep, "ratio", "verdicts", path);
  data->verdicts.resize(data->ratio.size());
  {
    Id ratio = h5::open_dataset(sweep, "ratio", path);
    data->ratio_versus_mean_control = double_or(ratio, "ratio_versus_mean_control", path);
    data->verdict_versus_mean_control = string_or(ratio, "verdict_versus_mean_control", path);
  }
  data->sanity = read_check(sweep, "baseline_sanity", path);
  data->isolation = read_check(sweep, "isolation", path);
  data->complete = !h5::has_attribute(file, "complete") || h5::read_int_attribute(file, "complete", path) != 0;
  data->baseline_done = !h5::has_attribute(sweep, "baseline_done") || int_or(sweep, "baseline_done", path) != 0;
  data->condition_done.assign(data->scales.size(), 1);
  if (h5::link_exists(sweep, "condition_done")) {
    const auto done = ints(sweep, "condition_done", path);
    for (std::size_t c = 0; c < data->condition_done.size(); ++c) data->condition_done[c] = c < done.size() && done[c] != 0;
  }
  return data;
}

std::shared_ptr<const IbData> read_ib_file(const std::string& path) {
  Id file = open_file(path);
  auto data = read_header<IbData>(file, "ib", path);
  Id ib = h5::open_group(file, "/ib", path);
  data->input = string_or(ib, "input", path);
  data->settings_json = string_or(ib, "settings_json", path);
  data->info_xy = double_or(ib, "I_XY", path);
  data->split_gain_floor = double_or(ib, "split_gain_floor", path);
  data->step_count = int_or(ib, "step_count", path);
  if (h5::link_exists(ib, "label_names")) {
    Id names = h5::open_dataset(ib, "label_names", path);
    data->label_names = read_strings(names, false, "label_names", path);
  }
  {
    Id history = h5::open_group(ib, "history", path);
    const auto beta = doubles(history, "beta", path), beta_critical = doubles(history, "beta_critical", path),
               info_xt = doubles(history, "I_XT", path), info_ty = doubles(history, "I_TY", path),
               gain = doubles(history, "gain", path);
    const auto kind = ints(history, "kind", path), clusters = ints(history, "cluster_count", path),
               parent = ints(history, "parent", path), cluster = ints(history, "cluster", path);
    for (std::size_t i = 0; i < beta.size(); ++i) {
      IbEvent event;
      event.beta = beta[i];
      event.beta_critical = i < beta_critical.size() ? beta_critical[i] : beta[i];
      event.info_xt = i < info_xt.size() ? info_xt[i] : 0;
      event.info_ty = i < info_ty.size() ? info_ty[i] : 0;
      event.gain = i < gain.size() ? gain[i] : 0;
      event.kind = i < kind.size() ? kind[i] : 0;
      event.cluster_count = i < clusters.size() ? clusters[i] : 0;
      event.parent = i < parent.size() ? parent[i] : -1;
      event.cluster = i < cluster.size() ? cluster[i] : -1;
      data->history.push_back(event);
    }
  }
  {
    Id curve = h5::open_group(ib, "curve", path);
    data->curve_beta = doubles(curve, "beta", path);
    data->curve_info_xt = doubles(curve, "I_XT", path);
    data->curve_info_ty = doubles(curve, "I_TY", path);
    data->curve_clusters = ints(curve, "K", path);
    data->curve_converged = ints(curve, "converged", path);
    const std::size_t n = data->curve_beta.size();
    if (data->curve_info_xt.size() != n || data->curve_info_ty.size() != n)
      throw std::runtime_error(path + ": /ib/curve datasets differ in length");
    data->curve_clusters.resize(n, 0);
    data->curve_converged.resize(n, 1);
  }
  {
    Id aib = h5::open_group(ib, "aib", path);
    data->merge_cost = doubles(aib, "cost", path);
    data->merge_cost_fraction = doubles(aib, "cost_fraction", path);
    data->merge_info_ty_after = doubles(aib, "I_TY_after", path);
    data->merge_clusters_after = ints(aib, "clusters_after", path);
    data->elbow_threshold = doubles(aib, "elbow_threshold", path);
    data->elbow_clusters_nats = ints(aib, "elbow_clusters_nats", path);
    data->elbow_clusters_fraction = ints(aib, "elbow_clusters_fraction", path);
    const std::size_t merges = data->merge_cost.size(), rows = data->elbow_threshold.size();
    data->merge_cost_fraction.resize(merges, 0);
    data->merge_info_ty_after.resize(merges, 0);
    data->merge_clusters_after.resize(merges, 0);
    data->elbow_clusters_nats.resize(rows, 0);
    data->elbow_clusters_fraction.resize(rows, 0);
  }
  {
    Id clusters = h5::open_group(ib, "clusters", path);
    const auto id = ints(clusters, "id", path), parent = ints(clusters, "parent", path),
               majority = ints(clusters, "majority_label", path);
    const auto mass = doubles(clusters, "mass", path), size = doubles(clusters, "size", path);
    std::vector<double> distribution;
    if (h5::link_exists(clusters, "label_distribution")) distribution = doubles(clusters, "label_distribution", path);
    const std::size_t labels = data->label_names.size();
    for (std::size_t i = 0; i < id.size(); ++i) {
      IbCluster c;
      c.id = id[i];
      c.parent = i < parent.size() ? parent[i] : -1;
      c.majority_label = i < majority.size() ? majority[i] : -1;
      c.mass = i < mass.size() ? mass[i] : 0;
      c.size = i < size.size() ? static_cast<std::int64_t>(size[i]) : 0;
      if (labels > 0 && distribution.size() >= (i + 1) * labels)
        c.label_distribution.assign(distribution.begin() + static_cast<std::ptrdiff_t>(i * labels),
                                    distribution.begin() + static_cast<std::ptrdiff_t>((i + 1) * labels));
      data->clusters.push_back(std::move(c));
    }
  }
  if (h5::link_exists(ib, "step_label")) data->step_label = ints(ib, "step_label", path);
  if (h5::link_exists(ib, "step_cluster")) data->step_cluster = ints(ib, "step_cluster", path);
  if (h5::link_exists(ib, "step_membership")) data->step_membership = doubles(ib, "step_membership", path);
  if (h5::link_exists(ib, "source")) {
    Id source = h5::open_group(ib, "source", path);
    data->has_source = true;
    data->source_store_path = string_or(source, "store_path", path);
    data->source_store_path_relative = string_or(source, "store_path_relative", path);
    data->source_store_created = string_or(source, "store_created", path);
    data->source_steps.sample = read_numbers<std::int64_t>(source, "sample", H5T_NATIVE_INT64, path);
    data->source_steps.span_start = read_numbers<std::int32_t>(source, "span_start", H5T_NATIVE_INT32, path);
    data->source_steps.span_end = read_numbers<std::int32_t>(source, "span_end", H5T_NATIVE_INT32, path);
    const std::size_t steps = data->source_steps.step_count();
    if (data->source_steps.span_start.size() != steps || data->source_steps.span_end.size() != steps ||
        (!data->step_cluster.empty() && data->step_cluster.size() != steps))
      throw std::runtime_error(path + ": /ib/source datasets and /ib/step_cluster differ in length");
  }
  return data;
}

ResultFile open_result_file(const std::string& path, bool background) {
  const std::string kind = headscope_file_kind(path);
  ResultFile file;
  file.path = path;
  file.kind = kind;
  if (kind == "sweep") file.sweep = read_sweep_file(path);
  else if (kind == "ib") {
    file.ib = read_ib_file(path);
    file.ib_source = std::make_shared<IbSourceData>(file.ib, background);
  }
  else
    throw std::runtime_error(path + ": not a sweep or ib result file (kind " +
                             (kind.empty() ? std::string("missing") : "'" + kind + "'") + ")");
  return file;
}

}  // namespace headscope::views
