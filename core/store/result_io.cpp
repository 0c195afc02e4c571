// Result-file helpers (see result_io.h), on core/store/h5.h and the HDF5 C API.
#include "core/store/result_io.h"

#include <cmath>
#include <filesystem>

#include "core/store/dimension_scales.h"
#include "core/store/file_header.h"
#include "core/store/read_access.h"

namespace headscope::store::result_io {

using h5::Id;

// Writing ------------------------------------------------------------------------------------------------
ResultFile::ResultFile(const std::string& out, RunKind kind, const std::string& command_line, bool complete,
                       bool overwrite)
    : path(out), lock((check_replaceable(out, overwrite), out)), temp(out) {
  h5::quiet_errors();
  Id access(H5Pcreate(H5P_FILE_ACCESS));  // the latest format checksums every piece of metadata
  H5Pset_libver_bounds(access, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  file = Id(h5::check(H5Fcreate(temp.path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), temp.path(),
                      "cannot create the file"));
  write_root_attributes(file, kind, command_line, complete);
}

void finish(ResultFile& out) {
  attach_label_scales(out.file, "/", out.temp.path());  // named dimensions for xarray (docs/notebooks.md)
  h5::check_status(H5Fflush(out.file, H5F_SCOPE_GLOBAL), out.temp.path(), "cannot flush");
  h5::check_status(H5Fclose(out.file.get()), out.temp.path(), "cannot close");
  out.file = Id();  // closed above
  out.temp.commit();
}

static std::vector<hsize_t> dims_of(const Array& array, std::size_t count) {
  return array.dims.empty() ? std::vector<hsize_t>{count} : array.dims;
}

void write_doubles(hid_t group, const std::string& name, const std::vector<double>& values, const Array& a,
                   const std::string& context) {
  h5::write_array(group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, dims_of(a, values.size()), values.data(), context,
                  a.dim_labels, a.units, a.description);
}

void write_int64s(hid_t group, const std::string& name, const std::vector<std::int64_t>& values, const Array& a,
                  const std::string& context) {
  h5::write_array(group, name, H5T_STD_I64LE, H5T_NATIVE_INT64, dims_of(a, values.size()), values.data(), context,
                  a.dim_labels, a.units, a.description);
}

void write_int32s(hid_t group, const std::string& name, const std::vector<std::int32_t>& values, const Array& a,
                  const std::string& context) {
  h5::write_array(group, name, H5T_STD_I32LE, H5T_NATIVE_INT32, dims_of(a, values.size()), values.data(), context,
                  a.dim_labels, a.units, a.description);
}

void write_heads(hid_t group, const std::string& name, const std::vector<HeadRef>& heads, const std::string& dim,
                 const std::string& description, const std::string& context) {
  std::vector<std::int32_t> pairs;
  std::vector<std::string> names;
  for (const auto& head : heads) {
    pairs.push_back(head.layer);
    pairs.push_back(head.head);
    names.push_back(head_name(head));
  }
  write_int32s(group, name, pairs, {{heads.size(), 2}, {dim, "layer_head"}, "", description}, context);
  Id dataset = h5::open_dataset(group, name, context);
  h5::write_attribute(dataset, "names", names);
}

void write_strings(hid_t group, const std::string& name, const std::vector<std::string>& values,
                   const std::string& description, const std::string& context) {
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hsize_t count = values.size();
  Id space(H5Screate_simple(1, &count, nullptr));
  Id dataset(h5::check(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), context,
                       "cannot create '" + name + "'"));
  std::vector<const char*> pointers;
  for (const std::string& v : values) pointers.push_back(v.c_str());
  if (count) h5::check_status(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), context, "cannot write '" + name + "'");
  h5::write_attribute(dataset, "units", std::string("1"));
  h5::write_attribute(dataset, "description", description);
}

// Reading ------------------------------------------------------------------------------------------------
Id open_read_only(const std::string& path) { return open_for_reading(path).file; }

void require_kind(hid_t file, RunKind wanted, const std::string& group, const std::string& path) {
  const std::string kind = read_root_attributes(file, path).kind, name = run_kind_name(wanted);
  if (kind != name)
    throw StoreError(path + ": not " + (wanted == RunKind::ib ? "an ib" : "a " + name) + " file (kind " +
                     (kind.empty() ? std::string("missing") : "'" + kind + "'") + ")");
  if (wanted == RunKind::sweep && !h5::link_exists(file, group) && h5::link_exists(file, "/gain_scan"))
    throw StoreError(path + ": a gain-scan file, not a sweep (no /sweep group; `headscope inspect` summarises it)");
  if (!h5::link_exists(file, group)) throw StoreError(path + ": kind '" + name + "' but no " + group + " group");
}

static hsize_t element_count(hid_t object, bool attribute) {
  Id space(attribute ? H5Aget_space(object) : H5Dget_space(object));
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  return points < 0 ? 0 : static_cast<hsize_t>(points);
}

template <typename T>
static std::vector<T> read_numbers(hid_t group, const std::string& name, hid_t memory_type, const std::string& path) {
  if (!h5::link_exists(group, name)) throw StoreError(path + ": dataset '" + name + "' is missing");
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
std::vector<std::int64_t> int64s(hid_t group, const std::string& name, const std::string& path) {
  return read_numbers<std::int64_t>(group, name, H5T_NATIVE_INT64, path);
}
std::vector<std::int32_t> int32s(hid_t group, const std::string& name, const std::string& path) {
  return read_numbers<std::int32_t>(group, name, H5T_NATIVE_INT32, path);
}

// A list of strings from an attribute (is_attribute) or a dataset, fixed-width or variable-length.
static std::vector<std::string> read_strings(hid_t object, bool is_attribute, const std::string& what, const std::string& path) {
  Id type(is_attribute ? H5Aget_type(object) : H5Dget_type(object));
  if (H5Tget_class(type) != H5T_STRING) throw StoreError(path + ": '" + what + "' is not a list of strings");
  const hsize_t count = element_count(object, is_attribute);
  std::vector<std::string> out;
  if (count == 0) return out;
  auto read = [&](hid_t memory_type, void* buffer) {
    const herr_t status = is_attribute ? H5Aread(object, memory_type, buffer)
                                       : H5Dread(object, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    h5::check_status(status, path, "cannot read '" + what + "'");
  };
  if (H5Tis_variable_str(type) > 0) {
    if (!is_attribute) h5::check_global_heap(object, path + " " + what);
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

std::vector<std::string> string_dataset(hid_t group, const std::string& name, const std::string& path) {
  Id dataset = h5::open_dataset(group, name, path);
  return read_strings(dataset, false, name, path);
}

std::vector<std::string> string_list_attribute(hid_t object, const std::string& name, const std::string& path) {
  if (!h5::has_attribute(object, name)) return {};
  Id attribute(h5::check(H5Aopen(object, name.c_str(), H5P_DEFAULT), path, "cannot open attribute '" + name + "'"));
  return read_strings(attribute, true, name, path);
}

std::vector<std::string> dataset_string_attribute(hid_t group, const std::string& dataset, const std::string& name,
                                                  const std::string& path) {
  if (!h5::link_exists(group, dataset)) return {};
  Id object = h5::open_dataset(group, dataset, path);
  return string_list_attribute(object, name, path);
}

std::string string_or(hid_t object, const std::string& name, const std::string& path, const std::string& fallback) {
  return h5::has_attribute(object, name) ? h5::read_string_attribute(object, name, path) : fallback;
}
std::int64_t int_or(hid_t object, const std::string& name, const std::string& path) {
  return h5::has_attribute(object, name) ? h5::read_int_attribute(object, name, path) : 0;
}
double double_or(hid_t object, const std::string& name, const std::string& path) {
  return h5::has_attribute(object, name) ? h5::read_double_attribute(object, name, path) : std::nan("");
}

}  // namespace headscope::store::result_io
