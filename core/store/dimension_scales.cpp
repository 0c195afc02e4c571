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
    h5::check_status(H5DSset_scale(scale, name.c_str()), context, std::string("cannot make ") + spec.path + " a dimension scale");
    scales.emplace(spec.path, std::move(scale));
  }
  for (const auto& spec : sc::capture_datasets()) {
    if (spec.role == sc::Role::scale || spec.rows == sc::RowAxis::fixed) continue;
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

}  // namespace headscope::store
