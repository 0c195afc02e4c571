// Helpers shared by the writers and readers of the small result files (sweep, gain scan, ib): each is a
// whole file of fixed arrays, written beside OUT and renamed over OUT, and read back whole. Arrays are
// written with their dimension names, units and description (h5.h) and read converted by HDF5 to double,
// int or int64; string lists come from fixed-width or variable-length attributes and datasets alike.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/file_replace.h"
#include "core/store/h5.h"
#include "core/store/layout.h"

namespace headscope::store::result_io {

// Writing ------------------------------------------------------------------------------------------------
// A result file being written: `temp` (a sibling of `path`, file_replace.h) while it is built, renamed over
// `path` by finish(); destroyed unfinished, it closes and removes the temporary, and `path` is untouched.
// The writer lock on `path` is held throughout, so no two writers replace the same file at once.
struct ResultFile {
  ResultFile(const std::string& path, RunKind kind, const std::string& command_line, bool complete, bool overwrite);
  std::string path;
  WriterLock lock;
  TempSibling temp;
  h5::Id file;
};
// Flushes and closes the file, then renames the temporary over `path`. Throws StoreError.
void finish(ResultFile& out);

struct Array {
  std::vector<hsize_t> dims;               // empty: one dimension as long as the values
  std::vector<std::string> dim_labels;
  std::string units, description;
};
void write_doubles(hid_t group, const std::string& name, const std::vector<double>& values, const Array& array,
                   const std::string& context);
void write_int64s(hid_t group, const std::string& name, const std::vector<std::int64_t>& values, const Array& array,
                  const std::string& context);
void write_int32s(hid_t group, const std::string& name, const std::vector<std::int32_t>& values, const Array& array,
                  const std::string& context);
// (layer, head) rows [count, 2] with a `names` attribute ("L1H2").
void write_heads(hid_t group, const std::string& name, const std::vector<HeadRef>& heads, const std::string& dim,
                 const std::string& description, const std::string& context);
// A variable-length UTF-8 string list [count] with its description.
void write_strings(hid_t group, const std::string& name, const std::vector<std::string>& values,
                   const std::string& description, const std::string& context);

// Reading ------------------------------------------------------------------------------------------------
h5::Id open_read_only(const std::string& path);  // throws StoreError when it is not HDF5
// Throws StoreError unless the root kind is `kind` and the group exists.
void require_kind(hid_t file, RunKind kind, const std::string& group, const std::string& path);

std::vector<double> doubles(hid_t group, const std::string& name, const std::string& path);  // throws when missing
std::vector<int> ints(hid_t group, const std::string& name, const std::string& path);
std::vector<std::int64_t> int64s(hid_t group, const std::string& name, const std::string& path);
std::vector<std::int32_t> int32s(hid_t group, const std::string& name, const std::string& path);
std::vector<std::string> string_dataset(hid_t group, const std::string& name, const std::string& path);
std::vector<std::string> string_list_attribute(hid_t object, const std::string& name, const std::string& path);
// The string list attribute `name` of dataset `dataset` in `group`; empty when either is missing.
std::vector<std::string> dataset_string_attribute(hid_t group, const std::string& dataset, const std::string& name,
                                                  const std::string& path);
std::string string_or(hid_t object, const std::string& name, const std::string& path, const std::string& fallback = "");
std::int64_t int_or(hid_t object, const std::string& name, const std::string& path);     // 0 when missing
double double_or(hid_t object, const std::string& name, const std::string& path);        // NaN when missing

}  // namespace headscope::store::result_io
