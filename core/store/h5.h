// Small RAII layer over the HDF5 C API used by the store, the analyses that write results and the
// importers: an owning id, error checks that turn HDF5 failures into StoreError with the file named,
// and typed helpers for attributes, strings and extendible 1-D..5-D datasets. Not a general HDF5 wrapper.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::h5 {

// Owns one HDF5 identifier (file, group, dataset, dataspace, type, property list, attribute).
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id() { reset(); }
  Id(Id&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& other) noexcept {
    if (this != &other) { reset(); id_ = other.id_; other.id_ = H5I_INVALID_HID; }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: meant to pass straight to the C API
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Silences HDF5's automatic error printing in the calling thread (we report errors ourselves): every
// entry point of the store calls it first, and so does every thread of ours that reads or writes HDF5.
void quiet_errors();
// The innermost message of the current HDF5 error stack, or "".
std::string last_error_message();
// Throws StoreError("<context>: <what> (<hdf5 message>)") when id < 0 / status < 0.
hid_t check(hid_t id, const std::string& context, const std::string& what);
void check_status(herr_t status, const std::string& context, const std::string& what);

// The 16-bit IEEE float type (HDF5 1.10 has no predefined one; h5py reads this as float16).
hid_t float16_type();

// Attributes on any object.
void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_attribute(hid_t object, const std::string& name, double value);
void write_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values);
bool has_attribute(hid_t object, const std::string& name);
std::string read_string_attribute(hid_t object, const std::string& name, const std::string& context);
std::int64_t read_int_attribute(hid_t object, const std::string& name, const std::string& context);
double read_double_attribute(hid_t object, const std::string& name, const std::string& context);

bool link_exists(hid_t location, const std::string& path);
Id create_group(hid_t location, const std::string& name, const std::string& context);
Id open_group(hid_t location, const std::string& name, const std::string& context);
Id open_dataset(hid_t location, const std::string& name, const std::string& context);

// HDF5 1.10 loops forever (or reads past its buffers) on some damaged global heap collections, where
// variable-length strings live without a checksum. Walks the collections a contiguous variable-length
// dataset points into, as HDF5 will, and throws StoreError when one is damaged. Call before H5Dread.
void check_global_heap(hid_t dataset, const std::string& context);

// A scalar variable-length string dataset (written before SWMR starts, never appended).
void write_string_dataset(hid_t location, const std::string& name, const std::string& value,
                          const std::string& context);
std::string read_string_dataset(hid_t location, const std::string& name, const std::string& context);

// Describes an extendible chunked dataset: dimension 0 grows, the others are fixed.
struct ExtendibleSpec {
  std::string name;
  hid_t file_type;                      // e.g. H5T_STD_I32LE, float16_type()
  std::vector<hsize_t> inner_dims;      // fixed trailing dimensions
  std::vector<hsize_t> chunk;           // full chunk shape, rank = 1 + inner_dims.size()
  int deflate_level = 0;                // 0: no filter; otherwise shuffle + deflate
  std::vector<std::string> dim_labels;  // one per dimension (H5DS labels; h5py: dset.dims[i].label)
  std::string units;
  std::string description;
  std::size_t chunk_cache_bytes = 0;    // 0: HDF5 default
};
Id create_extendible(hid_t location, const ExtendibleSpec& spec, const std::string& context);

hsize_t extent0(hid_t dataset);                 // current size of dimension 0
std::vector<hsize_t> extent(hid_t dataset);
// Grows (or shrinks) dimension 0 to `rows` and writes `data` (rows_written × inner) at row `at`.
void set_rows(hid_t dataset, hsize_t rows, const std::string& context);
void write_rows(hid_t dataset, hid_t memory_type, hsize_t at, hsize_t count, const void* data,
                const std::string& context);
// Reads a hyperslab: start/count per dimension, into `out` of the memory type.
void read_slab(hid_t dataset, hid_t memory_type, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, void* out, const std::string& context);
// Convenience: write a whole fixed-size array dataset (not extendible), optionally compressed.
void write_array(hid_t location, const std::string& name, hid_t file_type, hid_t memory_type,
                 const std::vector<hsize_t>& dims, const void* data, const std::string& context,
                 const std::vector<std::string>& dim_labels = {}, const std::string& units = "",
                 const std::string& description = "");

}  // namespace headscope::h5
