// Loading IB input (see ib_input.h) with the HDF5 C API for plain files, core/io/npy for NumPy pairs and
// StoreReader for HeadScope stores.
#include "core/analysis/ib/ib_input.h"

#include <hdf5.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "core/io/npy.h"
#include "core/store/read_access.h"
#include "core/store/reader.h"

namespace headscope::analysis::ib {
namespace {

bool is_integer_text(const std::string& text) {
  if (text.empty()) return false;
  std::size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  return true;
}

// Closes an HDF5 id on scope exit.
struct H5Closer {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5Closer() {
    if (id >= 0) close(id);
  }
};

bool root_says_headscope(hid_t file) {
  if (H5Aexists(file, "format") <= 0) return false;
  hid_t attribute = H5Aopen(file, "format", H5P_DEFAULT);
  H5Closer attribute_closer{attribute, H5Aclose};
  hid_t type = H5Aget_type(attribute);
  H5Closer type_closer{type, H5Tclose};
  if (H5Tget_class(type) != H5T_STRING) return false;
  std::string value;
  if (H5Tis_variable_str(type) > 0) {
    char* text = nullptr;
    hid_t memory = H5Tcopy(H5T_C_S1);
    H5Tset_size(memory, H5T_VARIABLE);
    if (H5Aread(attribute, memory, &text) >= 0 && text) value = text;
    if (text) H5free_memory(text);
    H5Tclose(memory);
  } else {
    std::vector<char> buffer(H5Tget_size(type) + 1, '\0');
    if (H5Aread(attribute, type, buffer.data()) >= 0) value = buffer.data();
  }
  return value == "headscope";
}

StepData load_plain_hdf5(hid_t file, const std::string& path) {
  StepData data;
  data.source = path;
  if (H5Lexists(file, "embeddings", H5P_DEFAULT) <= 0)
    throw IbInputError(path + ": no dataset 'embeddings' at the root (expected [N, d] floats and 'labels' [N])");
  if (H5Lexists(file, "labels", H5P_DEFAULT) <= 0)
    throw IbInputError(path + ": no dataset 'labels' at the root (expected [N] integers or strings)");
  hid_t embeddings = H5Dopen2(file, "embeddings", H5P_DEFAULT);
  H5Closer embeddings_closer{embeddings, H5Dclose};
  hid_t space = H5Dget_space(embeddings);
  H5Closer space_closer{space, H5Sclose};
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space) != 2) throw IbInputError(path + ": 'embeddings' must be 2-D [N, d]");
  H5Sget_simple_extent_dims(space, dims, nullptr);
  hid_t type = H5Dget_type(embeddings);
  H5Closer type_closer{type, H5Tclose};
  if (H5Tget_class(type) != H5T_FLOAT) throw IbInputError(path + ": 'embeddings' must hold floats");
  data.step_count = static_cast<std::int64_t>(dims[0]);
  data.dim = static_cast<int>(dims[1]);
  data.embeddings.resize(dims[0] * dims[1]);
  if (H5Dread(embeddings, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.embeddings.data()) < 0)
    throw IbInputError(path + ": cannot read 'embeddings'");

  hid_t labels = H5Dopen2(file, "labels", H5P_DEFAULT);
  H5Closer labels_closer{labels, H5Dclose};
  hid_t label_space = H5Dget_space(labels);
  H5Closer label_space_closer{label_space, H5Sclose};
  const hssize_t count = H5Sget_simple_extent_npoints(label_space);
  if (H5Sget_simple_extent_ndims(label_space) != 1 || count != data.step_count)
    throw IbInputError(path + ": 'labels' must be 1-D with one entry per embedding row (" + std::to_string(data.step_count) +
                       "), found " + std::to_string(count));
  hid_t label_type = H5Dget_type(labels);
  H5Closer label_type_closer{label_type, H5Tclose};
  const H5T_class_t label_class = H5Tget_class(label_type);
  if (label_class == H5T_INTEGER) {
    std::vector<long long> values(count);
    if (H5Dread(labels, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
      throw IbInputError(path + ": cannot read 'labels'");
    for (long long v : values) data.label_text.push_back(std::to_string(v));
  } else if (label_class == H5T_STRING && H5Tis_variable_str(label_type) > 0) {
    std::vector<char*> values(count, nullptr);
    hid_t memory = H5Tcopy(H5T_C_S1);
    H5Tset_size(memory, H5T_VARIABLE);
    H5Tset_cset(memory, H5Tget_cset(label_type));
    const herr_t status = H5Dread(labels, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    if (status >= 0)
      for (char* v : values) data.label_text.push_back(v ? v : "");
    if (status >= 0) H5Dvlen_reclaim(memory, label_space, H5P_DEFAULT, values.data());
    H5Tclose(memory);
    if (status < 0) throw IbInputError(path + ": cannot read 'labels'");
  } else if (label_class == H5T_STRING) {
    const size_t width = H5Tget_size(label_type);
    std::vector<char> buffer(width * count);
    if (H5Dread(labels, label_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
      throw IbInputError(path + ": cannot read 'labels'");
    for (hssize_t i = 0; i < count; ++i) {
      const char* text = &buffer[i * width];
      data.label_text.emplace_back(text, ::strnlen(text, width));
    }
  } else {
    throw IbInputError(path + ": 'labels' must hold integers or strings");
  }
  return data;
}

StepData load_store(const std::string& path) {
  auto reader = store::StoreReader::open(path);
  store::SpanEmbeddings spans = reader->embeddings();
  StepData data;
  data.source = path + " (HeadScope store, step-span embeddings)";
  data.dim = reader->layout().embedding_dim;
  data.step_count = static_cast<std::int64_t>(spans.labels.size());
  if (data.dim <= 0 || data.step_count == 0) throw IbInputError(path + ": the store holds no step embeddings");
  data.embeddings = std::move(spans.vectors);
  data.label_text = std::move(spans.labels);
  data.source_store = path;
  data.source_store_created = reader->created();
  data.step_sample = reader->embedding_sample();
  data.step_span_start = std::move(spans.span_start);
  data.step_span_end = std::move(spans.span_end);
  return data;
}

}  // namespace

void index_labels(StepData& data) {
  std::vector<std::string> names = data.label_text;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (std::all_of(names.begin(), names.end(), is_integer_text))
    std::stable_sort(names.begin(), names.end(),
                     [](const std::string& a, const std::string& b) { return std::atoll(a.c_str()) < std::atoll(b.c_str()); });
  std::map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int>(i);
  data.labels.resize(data.label_text.size());
  for (size_t i = 0; i < data.label_text.size(); ++i) data.labels[i] = index[data.label_text[i]];
  data.label_names = std::move(names);
}

StepData load_step_data(const std::string& embeddings_path, const std::string& labels_path) {
  if (!std::filesystem::exists(embeddings_path)) throw IbInputError(embeddings_path + ": no such file");
  StepData data;
  const std::string extension = std::filesystem::path(embeddings_path).extension().string();
  if (extension == ".npy") {
    if (labels_path.empty()) throw IbInputError(embeddings_path + ": a .npy embeddings file needs --labels FILE.npy");
    io::NpyFile embeddings(embeddings_path);
    const io::NpyHeader& header = embeddings.header();
    const bool is_float = header.type == io::NpyType::float16 || header.type == io::NpyType::float32 ||
                          header.type == io::NpyType::float64;
    if (header.shape.size() != 2 || !is_float)
      throw IbInputError(embeddings_path + ": expected a 2-D float array [N, d], found " + io::npy_type_name(header.type) +
                         " of rank " + std::to_string(header.shape.size()));
    data.step_count = static_cast<std::int64_t>(header.shape[0]);
    data.dim = static_cast<int>(header.shape[1]);
    data.embeddings.resize(header.element_count());
    embeddings.read_floats(0, header.element_count(), data.embeddings.data());
    std::ifstream in(labels_path, std::ios::binary);
    if (!in) throw IbInputError(labels_path + ": cannot open for reading");
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const io::NpyArray labels = io::parse_npy(labels_path, bytes);
    if (labels.header.shape.size() != 1 || labels.header.shape[0] != header.shape[0])
      throw IbInputError(labels_path + ": expected a 1-D array of " + std::to_string(header.shape[0]) +
                         " integer labels (one per row of " + embeddings_path + ")");
    for (std::int32_t v : labels.to_int32(labels_path)) data.label_text.push_back(std::to_string(v));
    data.source = embeddings_path + " + " + labels_path;
  } else {
    if (!labels_path.empty()) throw IbInputError(labels_path + ": --labels is only for a .npy embeddings file");
    if (H5Fis_hdf5(embeddings_path.c_str()) <= 0)
      throw IbInputError(embeddings_path + ": not an HDF5 file (expected .h5 with 'embeddings' and 'labels', a HeadScope store, or .npy)");
    store::OpenedFile opened;
    try {
      opened = store::open_for_reading(embeddings_path);  // never hangs on a damaged file (read_access.h)
    } catch (const store::StoreError& e) {
      throw IbInputError(e.what());
    }
    if (!root_says_headscope(opened.file)) {
      data = load_plain_hdf5(opened.file, embeddings_path);
    } else {
      opened.file.reset();
      data = load_store(embeddings_path);
    }
  }
  if (data.step_count < 2) throw IbInputError(embeddings_path + ": need at least 2 steps, found " + std::to_string(data.step_count));
  index_labels(data);
  return data;
}

}  // namespace headscope::analysis::ib
