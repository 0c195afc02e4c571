// Dimension scales and coordinates (see dimension_scales.h), through HDF5's high-level H5DS API.
#include "core/store/dimension_scales.h"

#include <hdf5_hl.h>

#include <map>
#include <mutex>
#include <numeric>

#include "core/store/h5.h"
#include "core/store/schema_table.h"

namespace headscope::store {

namespace sc = schema;
using h5::Id;

// netCDF-4's NAME of a dimension scale without values (h5netcdf and netCDF read it so; the dimension is named
// after the dataset's link).
constexpr const char* kDimensionOnly = "This is a netCDF dimension but not a netCDF variable.";

hid_t text_type(int bytes) {
  static std::mutex mutex;
  static std::map<int, hid_t> types;  // one per width, kept for the process
  std::lock_guard<std::mutex> lock(mutex);
  auto& type = types[bytes];
  if (type <= 0) {
    type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, static_cast<size_t>(bytes));
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    H5Tset_cset(type, H5T_CSET_UTF8);
  }
  return type;
}

std::vector<char> pack_text(const std::vector<std::string>& texts, int width) {
  std::vector<char> packed(texts.size() * static_cast<std::size_t>(width), '\0');
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::size_t length = std::min(texts[i].size(), static_cast<std::size_t>(width));
    // Not in the middle of a character: back off continuation bytes (10xxxxxx) of a cut one.
    if (length < texts[i].size())
      while (length > 0 && (static_cast<unsigned char>(texts[i][length]) & 0xC0) == 0x80) --length;
    texts[i].copy(packed.data() + i * static_cast<std::size_t>(width), length);
  }
  return packed;
}

void write_fixed_scales(hid_t file, const StoreLayout& layout, const std::string& context) {
  for (const auto& spec : sc::capture_datasets()) {
    if (spec.role != sc::Role::scale || spec.rows != sc::RowAxis::fixed || !sc::is_present(spec, layout)) continue;
    std::vector<std::int32_t> values(sc::dimension_size(spec.dims[0], layout));
    std::iota(values.begin(), values.end(), 0);
    h5::write_array(file, spec.path, H5T_STD_I32LE, H5T_NATIVE_INT32, {values.size()}, values.data(), context,
                    {spec.dims.begin(), spec.dims.end()}, spec.units, spec.description);
  }
}

void attach_dimension_scales(hid_t file, const StoreLayout& layout, const std::string& context) {
  std::map<std::string, Id> scales;        // "/metrics/token" -> the scale
  std::map<std::string, std::string> coordinates;  // "/metrics" -> "token_sample token_position token_text"
  for (const auto& spec : sc::capture_datasets()) {
    if (spec.role == sc::Role::data || !sc::is_present(spec, layout) || !h5::link_exists(file, spec.path)) continue;
    const std::string name = std::string(spec.path).substr(std::string(spec.path).rfind('/') + 1);
    if (spec.role == sc::Role::coordinate) {
      auto& names = coordinates[sc::group_of(spec.path)];
      names += (names.empty() ? "" : " ") + name;
      continue;
    }
    Id scale = h5::open_dataset(file, spec.path, context);
    const std::string scale_name = spec.role == sc::Role::dimension ? kDimensionOnly : name;
    h5::check_status(H5DSset_scale(scale, scale_name.c_str()), context, std::string("cannot make ") + spec.path + " a dimension scale");
    scales.emplace(spec.path, std::move(scale));
  }
  for (const auto& spec : sc::capture_datasets()) {
    if (spec.role == sc::Role::scale || spec.role == sc::Role::dimension) continue;
    for (const auto& path : sc::dataset_paths(spec, layout)) {
      if (!h5::link_exists(file, path)) continue;
      const std::string group = sc::group_of(path);
      Id dataset = h5::open_dataset(file, path, context);
      for (std::size_t d = 0; d < spec.dims.size(); ++d) {
        const auto scale = scales.find(group + "/" + spec.dims[d]);
        if (scale != scales.end())
          h5::check_status(H5DSattach_scale(dataset, scale->second, static_cast<unsigned>(d)), context,
                           "cannot attach the scale " + scale->first + " to " + path);
      }
      const auto names = coordinates.find(group);
      if (spec.role == sc::Role::data && names != coordinates.end() && scales.count(group + "/" + spec.dims[0]))
        h5::write_attribute(dataset, "coordinates", names->second);
    }
  }
}

namespace {

// Longest axis given an index scale of its own (0..n-1); longer ones get a dimension without values.
constexpr hsize_t kMaxIndexScale = 1 << 16;

struct LabelledDataset {
  std::string path, group;
  std::vector<hsize_t> dims;
  std::vector<std::string> labels;  // "" where a dimension has none
  bool numeric = false;
};

herr_t collect_dataset(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  if (info->type != H5O_TYPE_DATASET) return 0;
  auto& found = *static_cast<std::vector<LabelledDataset>*>(data);
  Id dataset(H5Dopen2(root, name, H5P_DEFAULT));
  if (!dataset.valid() || H5DSis_scale(dataset) > 0) return 0;
  LabelledDataset d;
  d.path = name;
  d.group = d.path.find('/') == std::string::npos ? "" : d.path.substr(0, d.path.rfind('/'));
  d.dims = h5::extent(dataset);
  Id type(H5Dget_type(dataset));
  d.numeric = H5Tget_class(type) == H5T_INTEGER || H5Tget_class(type) == H5T_FLOAT;
  for (std::size_t i = 0; i < d.dims.size(); ++i) {
    char label[128] = {};
    const ssize_t length = H5DSget_label(dataset, static_cast<unsigned>(i), label, sizeof label);
    d.labels.push_back(length > 0 ? std::string(label) : std::string());
    if (d.labels.back().empty()) {  // unlabelled: named after the dataset (its own coordinate when 1-D)
      const std::string base = d.path.substr(d.path.rfind('/') + 1);
      d.labels.back() = d.dims.size() == 1 ? base : base + "_" + std::to_string(i);
      H5DSset_label(dataset, static_cast<unsigned>(i), d.labels.back().c_str());
    }
  }
  found.push_back(std::move(d));
  return 0;
}

}  // namespace

void attach_label_scales(hid_t file, const std::string& group, const std::string& context) {
  if (!h5::link_exists(file, group)) return;
  Id root(h5::check(H5Oopen(file, group.c_str(), H5P_DEFAULT), context, "cannot open " + group));
  std::vector<LabelledDataset> datasets;
  h5::check_status(H5Ovisit2(root, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &datasets, H5O_INFO_BASIC), context,
                   "cannot list the datasets of " + group);
  H5Eclear2(H5E_DEFAULT);  // H5DSget_label fails quietly on an unlabelled dimension
  // Per (group, label): its length, or none when two datasets disagree.
  constexpr hsize_t kConflict = ~hsize_t{0};
  std::map<std::pair<std::string, std::string>, hsize_t> lengths;
  for (const auto& d : datasets)
    for (std::size_t i = 0; i < d.dims.size(); ++i) {
      if (d.labels[i].empty()) continue;
      const auto key = std::make_pair(d.group, d.labels[i]);
      const auto [at, added] = lengths.emplace(key, d.dims[i]);
      if (!added && at->second != d.dims[i]) at->second = kConflict;
    }
  std::map<std::pair<std::string, std::string>, Id> scales;
  for (const auto& [key, length] : lengths) {
    if (length == kConflict) continue;
    const std::string prefix = key.first.empty() ? "" : key.first + "/";
    std::string scale_path;
    for (const auto& d : datasets)  // the real coordinates, when the group has them
      if (d.group == key.first && d.dims.size() == 1 && d.labels[0] == key.second &&
          (d.path == prefix + key.second || (d.numeric && d.path == prefix + key.second + "s")))
        scale_path = d.path;
    // A byte axis (a file or text kept verbatim) or a long one gets a dimension without values: no space.
    const bool values = key.second != "byte" && length <= kMaxIndexScale;
    if (scale_path.empty()) {
      scale_path = prefix + key.second;
      if (h5::link_exists(root, scale_path)) continue;  // the name is taken by something else: label only
      if (values) {
        std::vector<std::int32_t> index(length);
        std::iota(index.begin(), index.end(), 0);
        h5::write_array(root, scale_path, H5T_STD_I32LE, H5T_NATIVE_INT32, {length}, index.data(), context, {key.second}, "",
                        key.second + " index (dimension scale)");
      } else {
        Id space(H5Screate_simple(1, &length, nullptr));
        Id create(H5Pcreate(H5P_DATASET_CREATE));
        H5Pset_alloc_time(create, H5D_ALLOC_TIME_LATE);  // never written: never allocated
        Id links(H5Pcreate(H5P_LINK_CREATE));
        H5Pset_create_intermediate_group(links, 1);
        Id made(h5::check(H5Dcreate2(root, scale_path.c_str(), H5T_STD_U8LE, space, links, create, H5P_DEFAULT), context,
                          "cannot create " + scale_path));
      }
    }
    Id scale = h5::open_dataset(root, scale_path, context);
    const std::string scale_name = values || scale_path != prefix + key.second ? key.second : kDimensionOnly;
    h5::check_status(H5DSset_scale(scale, scale_name.c_str()), context, "cannot make " + scale_path + " a dimension scale");
    scales.emplace(key, std::move(scale));
  }
  for (const auto& d : datasets) {
    Id dataset;
    for (std::size_t i = 0; i < d.dims.size(); ++i) {
      const auto scale = scales.find({d.group, d.labels[i]});
      if (d.labels[i].empty() || scale == scales.end()) continue;
      if (!dataset.valid()) dataset = h5::open_dataset(root, d.path, context);
      if (H5DSis_scale(dataset) > 0) break;  // it is the scale itself
      h5::check_status(H5DSattach_scale(dataset, scale->second, static_cast<unsigned>(i)), context,
                       "cannot attach the scale of " + d.labels[i] + " to " + d.path);
    }
  }
}

}  // namespace headscope::store
