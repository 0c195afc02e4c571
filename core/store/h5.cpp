// Implementation of the small HDF5 layer (see h5.h): error capture, attributes, strings and
// extendible chunked datasets with dimension labels.
#include "core/store/h5.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include <hdf5_hl.h>


namespace headscope::h5 {

using store::StoreError;

void Id::reset() {
  if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Idec_ref(id_);
  id_ = H5I_INVALID_HID;
}

// HeadScope opens every HDF5 file without HDF5's own file locks (readers never block a writer, and the
// writer lock of file_replace.h marks a live writer). HDF5 opens a file once per process and refuses a
// second open whose locking setting differs; the shard files a master's virtual datasets open take the
// library default, not our file-access list, so the default itself is set, before main, for every open
// in this process (the variable is HDF5's own, read at each open; a value set by the user is kept).
namespace {
const bool file_locking_off = [] { return ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0) == 0; }();
}  // namespace

// HDF5's automatic error printing is a setting of each thread's own error stack in a thread-safe build
// (Debian's is: "Threadsafety: yes" in libhdf5.settings), and a new thread starts with printing on. So
// the setting is made once per thread, not once per process: a reader thread that opened a live file
// after the main thread had silenced only itself printed the expected SWMR retries' stacks.
void quiet_errors() {
  (void)file_locking_off;
  thread_local bool quiet = false;
  if (quiet) return;
  quiet = true;
  // HEADSCOPE_HDF5_ERRORS=1 keeps HDF5's own error stack printing (for diagnosing a damaged file).
  if (!std::getenv("HEADSCOPE_HDF5_ERRORS")) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string last_error_message() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
        auto* out = static_cast<std::string*>(data);
        if (error && error->desc && out->empty()) *out = error->desc;
        return 0;
      },
      &message);
  return message;
}

hid_t check(hid_t id, const std::string& context, const std::string& what) {
  if (id < 0) {
    std::string detail = last_error_message();
    H5Eclear2(H5E_DEFAULT);
    throw StoreError(context + ": " + what + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
  }
  return id;
}

void check_status(herr_t status, const std::string& context, const std::string& what) {
  check(status < 0 ? H5I_INVALID_HID : 0, context, what);
}

hid_t float16_type() {
  static hid_t type = [] {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    H5Tlock(t);
    return t;
  }();
  return type;
}

static Id string_type(std::size_t length) {
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, length == 0 ? 1 : length);
  H5Tset_cset(type, H5T_CSET_UTF8);
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  return type;
}

static void replace_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
}

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  replace_attribute(object, name);
  Id type = string_type(value.size());
  Id space(H5Screate(H5S_SCALAR));
  Id attribute(check(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), name,
                     "cannot create attribute"));
  check_status(H5Awrite(attribute, type, value.empty() ? "" : value.data()), name, "cannot write attribute");
}

void write_attribute(hid_t object, const std::string& name, std::int64_t value) {
  replace_attribute(object, name);
  Id space(H5Screate(H5S_SCALAR));
  Id attribute(check(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), name,
                     "cannot create attribute"));
  check_status(H5Awrite(attribute, H5T_NATIVE_INT64, &value), name, "cannot write attribute");
}

void write_attribute(hid_t object, const std::string& name, double value) {
  replace_attribute(object, name);
  Id space(H5Screate(H5S_SCALAR));
  Id attribute(check(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), name,
                     "cannot create attribute"));
  check_status(H5Awrite(attribute, H5T_NATIVE_DOUBLE, &value), name, "cannot write attribute");
}

void write_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  replace_attribute(object, name);
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::vector<char> packed(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) values[i].copy(packed.data() + i * width, values[i].size());
  Id type = string_type(width);
  hsize_t count = values.size();
  Id space(H5Screate_simple(1, &count, nullptr));
  Id attribute(check(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), name,
                     "cannot create attribute"));
  if (!values.empty())  // an empty list (e.g. no metrics in a flow-only import) has nothing to write
    check_status(H5Awrite(attribute, type, packed.data()), name, "cannot write attribute");
}

bool has_attribute(hid_t object, const std::string& name) { return H5Aexists(object, name.c_str()) > 0; }

std::string read_string_attribute(hid_t object, const std::string& name, const std::string& context) {
  Id attribute(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), context, "missing attribute '" + name + "'"));
  Id type(H5Aget_type(attribute));
  if (H5Tget_class(type) != H5T_STRING) throw StoreError(context + ": attribute '" + name + "' is not a string");
  if (H5Tis_variable_str(type) > 0) {
    char* value = nullptr;
    Id memory_type(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory_type, H5T_VARIABLE);
    H5Tset_cset(memory_type, H5Tget_cset(type));
    check_status(H5Aread(attribute, memory_type, &value), context, "cannot read attribute '" + name + "'");
    std::string result = value ? value : "";
    H5free_memory(value);
    return result;
  }
  std::size_t size = H5Tget_size(type);
  std::string value(size, '\0');
  check_status(H5Aread(attribute, type, value.data()), context, "cannot read attribute '" + name + "'");
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

std::int64_t read_int_attribute(hid_t object, const std::string& name, const std::string& context) {
  Id attribute(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), context, "missing attribute '" + name + "'"));
  Id type(H5Aget_type(attribute));
  if (H5Tget_class(type) != H5T_INTEGER) throw StoreError(context + ": attribute '" + name + "' is not an integer");
  std::int64_t value = 0;
  check_status(H5Aread(attribute, H5T_NATIVE_INT64, &value), context, "cannot read attribute '" + name + "'");
  return value;
}

double read_double_attribute(hid_t object, const std::string& name, const std::string& context) {
  Id attribute(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), context, "missing attribute '" + name + "'"));
  double value = 0;
  check_status(H5Aread(attribute, H5T_NATIVE_DOUBLE, &value), context, "cannot read attribute '" + name + "'");
  return value;
}

bool link_exists(hid_t location, const std::string& path) {
  // Check each component so that a missing intermediate group is not an error.
  std::string partial;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    partial = path.substr(0, slash == std::string::npos ? path.size() : slash);
    if (!partial.empty() && partial != "/" && H5Lexists(location, partial.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Id create_group(hid_t location, const std::string& name, const std::string& context) {
  return Id(check(H5Gcreate2(location, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), context,
                  "cannot create group '" + name + "'"));
}

Id open_group(hid_t location, const std::string& name, const std::string& context) {
  if (!link_exists(location, name)) throw StoreError(context + ": missing group '" + name + "'");
  return Id(check(H5Gopen2(location, name.c_str(), H5P_DEFAULT), context, "cannot open group '" + name + "'"));
}

Id open_dataset(hid_t location, const std::string& name, const std::string& context) {
  if (!link_exists(location, name)) throw StoreError(context + ": missing dataset '" + name + "'");
  return Id(check(H5Dopen2(location, name.c_str(), H5P_DEFAULT), context, "cannot open dataset '" + name + "'"));
}

void write_string_dataset(hid_t location, const std::string& name, const std::string& value,
                          const std::string& context) {
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  Id space(H5Screate(H5S_SCALAR));
  Id dataset(check(H5Dcreate2(location, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), context,
                   "cannot create dataset '" + name + "'"));
  const char* data = value.c_str();
  check_status(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &data), context,
               "cannot write dataset '" + name + "'");
}

namespace {

std::uint64_t little_endian(const unsigned char* bytes, int count) {
  std::uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Reads `count` bytes at absolute `offset` of the file; false when the file is shorter.
bool read_file_bytes(const std::string& path, std::uint64_t offset, std::uint64_t count, std::vector<unsigned char>& out) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  out.assign(static_cast<std::size_t>(count), 0);
  const bool ok = fseeko(file, static_cast<off_t>(offset), SEEK_SET) == 0 && std::fread(out.data(), 1, out.size(), file) == out.size();
  std::fclose(file);
  return ok;
}

}  // namespace

void check_global_heap(hid_t dataset, const std::string& context) {
  constexpr std::uint64_t kElementBytes = 16, kHeaderBytes = 16, kObjectHeaderBytes = 16;  // 8-byte offsets and lengths
  const haddr_t offset = H5Dget_offset(dataset);
  Id file(H5Iget_file_id(dataset));
  Id file_create(H5Fget_create_plist(file));
  std::size_t offset_size = 0, length_size = 0;
  hsize_t userblock = 0;
  if (offset == HADDR_UNDEF || H5Pget_sizes(file_create, &offset_size, &length_size) < 0 || offset_size != 8 ||
      length_size != 8 || H5Pget_userblock(file_create, &userblock) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return;  // not contiguous, or a layout this check does not know: HDF5 reads it unchecked
  }
  const ssize_t name_length = H5Fget_name(dataset, nullptr, 0);
  std::string path(name_length > 0 ? static_cast<std::size_t>(name_length) : 0, '\0');
  if (name_length <= 0 || H5Fget_name(dataset, path.data(), path.size() + 1) < 0) return;
  auto damaged = [&](const std::string& what) {
    throw StoreError(context + ": a variable-length string's storage (HDF5 global heap) is damaged: " + what);
  };
  Id space(H5Dget_space(dataset));
  const hssize_t elements = H5Sget_simple_extent_npoints(space);
  std::vector<unsigned char> references;
  if (elements <= 0) return;
  if (!read_file_bytes(path, offset, static_cast<std::uint64_t>(elements) * kElementBytes, references)) damaged("past the end of the file");
  std::map<std::uint64_t, std::map<std::uint64_t, std::uint64_t>> collections;  // address -> object index -> size
  for (hssize_t e = 0; e < elements; ++e) {
    const unsigned char* element = references.data() + e * kElementBytes;
    const std::uint64_t length = little_endian(element, 4), address = little_endian(element + 4, 8);
    const std::uint64_t index = little_endian(element + 12, 4);
    if (length == 0) continue;  // an empty string points nowhere
    if (!collections.count(address)) {
      std::vector<unsigned char> header, heap;
      if (!read_file_bytes(path, userblock + address, kHeaderBytes, header) || std::memcmp(header.data(), "GCOL", 4) != 0)
        damaged("no collection at address " + std::to_string(address));
      const std::uint64_t size = little_endian(header.data() + 8, 8);
      if (size < kHeaderBytes || size > (std::uint64_t{1} << 32) || !read_file_bytes(path, userblock + address, size, heap))
        damaged("collection size " + std::to_string(size));
      auto& objects = collections[address];
      for (std::uint64_t at = kHeaderBytes; at + kObjectHeaderBytes <= size;) {  // HDF5's own walk
        const std::uint64_t object = little_endian(heap.data() + at, 2), object_size = little_endian(heap.data() + at + 8, 8);
        const std::uint64_t need = object > 0 ? kObjectHeaderBytes + ((object_size + 7) / 8) * 8 : object_size;
        if (need == 0 || need > size - at || object_size > size) damaged("object " + std::to_string(object) + " of size " + std::to_string(object_size));
        if (object > 0) objects[object] = object_size;
        at += need;
      }
    }
    const auto& objects = collections[address];
    const auto found = objects.find(index);
    if (found == objects.end() || found->second < length) damaged("string " + std::to_string(index) + " is not in its collection");
  }
}

std::string read_string_dataset(hid_t location, const std::string& name, const std::string& context) {
  Id dataset = open_dataset(location, name, context);
  Id type(H5Dget_type(dataset));
  if (H5Tget_class(type) != H5T_STRING) throw StoreError(context + ": dataset '" + name + "' is not a string");
  if (H5Tis_variable_str(type) > 0) {
    check_global_heap(dataset, context + " " + name);
    Id memory_type(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory_type, H5T_VARIABLE);
    H5Tset_cset(memory_type, H5Tget_cset(type));
    char* value = nullptr;
    check_status(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), context,
                 "cannot read dataset '" + name + "'");
    std::string result = value ? value : "";
    H5free_memory(value);
    return result;
  }
  std::size_t size = H5Tget_size(type);
  std::string value(size, '\0');
  check_status(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()), context,
               "cannot read dataset '" + name + "'");
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

static void describe(hid_t dataset, const std::vector<std::string>& dim_labels, const std::string& units,
                     const std::string& description) {
  std::string joined;
  for (std::size_t i = 0; i < dim_labels.size(); ++i) {
    H5DSset_label(dataset, static_cast<unsigned>(i), dim_labels[i].c_str());
    joined += (i ? "," : "") + dim_labels[i];
  }
  if (!dim_labels.empty()) write_attribute(dataset, "dimensions", joined);
  if (!units.empty()) write_attribute(dataset, "units", units);
  if (!description.empty()) write_attribute(dataset, "description", description);
}

Id create_extendible(hid_t location, const ExtendibleSpec& spec, const std::string& context) {
  const int rank = 1 + static_cast<int>(spec.inner_dims.size());
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED};
  for (hsize_t d : spec.inner_dims) { dims.push_back(d); max_dims.push_back(d); }
  Id space(H5Screate_simple(rank, dims.data(), max_dims.data()));
  Id create(H5Pcreate(H5P_DATASET_CREATE));
  check_status(H5Pset_chunk(create, rank, spec.chunk.data()), context, "bad chunk shape for '" + spec.name + "'");
  if (spec.deflate_level > 0) {
    H5Pset_shuffle(create);
    H5Pset_deflate(create, static_cast<unsigned>(spec.deflate_level));
    // A checksum of every chunk (last in the pipeline, so it covers the stored bytes): a damaged chunk is
    // a read error, never silently wrong values. Only on compressed chunks, which a writer moves on every
    // rewrite: an uncompressed chunk is rewritten in place, and a live reader would catch it half-written,
    // its checksum not yet matching, and fail spuriously.
    check_status(H5Pset_fletcher32(create), context, "cannot add a checksum to '" + spec.name + "'");
  }
  Id access(H5Pcreate(H5P_DATASET_ACCESS));
  if (spec.chunk_cache_bytes > 0) H5Pset_chunk_cache(access, 12421, spec.chunk_cache_bytes, 1.0);
  Id dataset(check(H5Dcreate2(location, spec.name.c_str(), spec.file_type, space, H5P_DEFAULT, create, access),
                   context, "cannot create dataset '" + spec.name + "'"));
  describe(dataset, spec.dim_labels, spec.units, spec.description);
  return dataset;
}

std::vector<hsize_t> extent(hid_t dataset) {
  Id space(H5Dget_space(dataset));
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

hsize_t extent0(hid_t dataset) {
  auto dims = extent(dataset);
  return dims.empty() ? 0 : dims[0];
}

void set_rows(hid_t dataset, hsize_t rows, const std::string& context) {
  auto dims = extent(dataset);
  dims[0] = rows;
  check_status(H5Dset_extent(dataset, dims.data()), context, "cannot resize dataset");
}

void write_rows(hid_t dataset, hid_t memory_type, hsize_t at, hsize_t count, const void* data,
                const std::string& context) {
  if (count == 0) return;
  auto dims = extent(dataset);
  if (dims[0] < at + count) {
    dims[0] = at + count;
    check_status(H5Dset_extent(dataset, dims.data()), context, "cannot extend dataset");
  }
  Id file_space(H5Dget_space(dataset));
  std::vector<hsize_t> start(dims.size(), 0), count_dims = dims;
  start[0] = at;
  count_dims[0] = count;
  check_status(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count_dims.data(), nullptr),
               context, "bad selection");
  Id memory_space(H5Screate_simple(static_cast<int>(count_dims.size()), count_dims.data(), nullptr));
  check_status(H5Dwrite(dataset, memory_type, memory_space, file_space, H5P_DEFAULT, data), context,
               "cannot write rows");
}

void read_slab(hid_t dataset, hid_t memory_type, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, void* out, const std::string& context) {
  Id file_space(H5Dget_space(dataset));
  check_status(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
               context, "selection outside the dataset");
  Id memory_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  check_status(H5Dread(dataset, memory_type, memory_space, file_space, H5P_DEFAULT, out), context,
               "cannot read (truncated or corrupt file?)");
}

void write_array(hid_t location, const std::string& name, hid_t file_type, hid_t memory_type,
                 const std::vector<hsize_t>& dims, const void* data, const std::string& context,
                 const std::vector<std::string>& dim_labels, const std::string& units,
                 const std::string& description) {
  Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  // Chunked (about 1 MiB a chunk) with a checksum, so damaged bytes are a read error; an empty array
  // cannot be chunked and holds nothing to damage.
  Id create(H5Pcreate(H5P_DATASET_CREATE));
  if (total > 0 && !dims.empty()) {
    const hsize_t row_bytes = std::max<hsize_t>(1, total / dims[0] * H5Tget_size(file_type));
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], (hsize_t{1} << 20) / row_bytes));
    check_status(H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data()), context, "bad chunk shape for '" + name + "'");
    check_status(H5Pset_fletcher32(create), context, "cannot add a checksum to '" + name + "'");
  }
  Id dataset(check(H5Dcreate2(location, name.c_str(), file_type, space, H5P_DEFAULT, create, H5P_DEFAULT), context,
                   "cannot create dataset '" + name + "'"));
  if (total > 0)
    check_status(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), context,
                 "cannot write dataset '" + name + "'");
  describe(dataset, dim_labels, units, description);
}

}  // namespace headscope::h5
