// Damaged values inside a well-formed store: a sample index of a million, a span at -3, flow positions
// of +-99,999, a token text length of 2^30, a layer_count of 1,000, ranges past their datasets,
// metadata that is not JSON. Each is patched into a good store with the HDF5 API; opening it and reading
// everything (the way inspect, analyze, export and ib do) must throw StoreError, never std::bad_alloc,
// "vector larger than max_size()" or an out-of-range substr. The IB, sweep and analysis readers likewise.
#include <gtest/gtest.h>

#include <functional>

#include "core/analysis/store_analysis.h"
#include "core/store/analysis_group.h"
#include "core/store/h5.h"
#include "core/store/ib_file.h"
#include "core/store/reader.h"
#include "core/store/sweep_file.h"
#include "core/store/writer.h"
#include "read_whole_store.h"
#include "result_file_data.h"
#include "store_test_data.h"
#include "test_support.h"

using namespace headscope;
using namespace headscope::store;

namespace {

std::string write_good_store(const std::filesystem::path& dir) {
  const std::string path = (dir / "store.h5").string();
  const auto layout = test::small_layout();
  auto writer = StoreWriter::create(path, layout, {});
  for (int i = 0; i < 4; ++i) writer->append(test::make_sample(layout, i));
  writer->close();
  return path;
}

h5::Id open_for_patching(const std::string& path) {
  h5::Id access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(access, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  return h5::Id(h5::check(H5Fopen(path.c_str(), H5F_ACC_RDWR, access), path, "cannot reopen to patch"));
}

// Writes `value` at element `index` (C order) of a dataset, converted by HDF5 to the dataset's type.
void patch_value(const std::string& path, const std::string& dataset_path, hsize_t index, double value) {
  h5::Id file = open_for_patching(path);
  h5::Id dataset = h5::open_dataset(file, dataset_path, path);
  const auto dims = h5::extent(dataset);
  std::vector<hsize_t> coordinate(dims.size());
  for (std::size_t d = dims.size(); d-- > 0;) {
    coordinate[d] = index % dims[d];
    index /= dims[d];
  }
  h5::Id space(H5Dget_space(dataset));
  H5Sselect_elements(space, H5S_SELECT_SET, 1, coordinate.data());
  const hsize_t one = 1;
  h5::Id memory(H5Screate_simple(1, &one, nullptr));
  h5::Id type(H5Dget_type(dataset));
  const hid_t memory_type = H5Tget_class(type) == H5T_FLOAT ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  const auto integer = static_cast<std::int64_t>(value);
  h5::check_status(H5Dwrite(dataset, memory_type, memory, space, H5P_DEFAULT,
                            memory_type == H5T_NATIVE_DOUBLE ? static_cast<const void*>(&value) : &integer),
                   path, "cannot patch " + dataset_path);
}

void patch_attribute(const std::string& path, const std::string& object, const std::string& name, std::int64_t value) {
  h5::Id file = open_for_patching(path);
  h5::Id target(H5Oopen(file, object.c_str(), H5P_DEFAULT));
  h5::write_attribute(target, name, value);
}

struct BadValue {
  const char* what;
  std::function<void(const std::string&)> patch;
};

}  // namespace

TEST(StoreBadValues, EachDamagedIndexOrCountIsAStoreError) {
  auto value = [](const char* dataset, hsize_t index, double v) {
    return [=](const std::string& path) { patch_value(path, dataset, index, v); };
  };
  const std::vector<BadValue> cases = {
      {"an embedding's sample index 1e6", value("/embeddings/sample", 0, 1e6)},
      {"an embedding's sample index -1", value("/embeddings/sample", 1, -1)},
      {"a span starting at -3", value("/embeddings/span_start", 0, -3)},
      {"a span ending past its sample", value("/embeddings/span_end", 2, 99999)},
      {"a label 2^30 bytes long", value("/embeddings/label_length", 0, 1 << 30)},
      {"a flow position 99,999", value("/flow/positions", 4, 99999)},
      {"a flow position -99,999", value("/flow/positions", 0, -99999)},
      {"a token text 2^30 bytes long", value("/tokens/text_length", 3, 1 << 30)},
      {"a token text starting at -5", value("/tokens/text_start", 6, -5)},
      {"a token count of 2^30", value("/samples/token_count", 1, 1 << 30)},
      {"a negative token count", value("/samples/token_count", 2, -7)},
      {"a token start past the tokens", value("/samples/token_start", 3, 1e9)},
      {"a prompt length of -1", value("/samples/prompt_length", 0, -1)},
      {"an id 2^30 bytes long", value("/samples/id_length", 2, 1 << 30)},
      {"metadata at byte -4", value("/samples/metadata_start", 1, -4)},
      {"1,000 step embeddings in one sample", value("/samples/embedding_count", 0, 1000)},
      {"an attention offset of 2^40", value("/attention/offset", 1, 1099511627776.0)},
      {"metadata that is not JSON", value("/samples/text", 8, '#')},
      {"layer_count 1,000", [](const std::string& path) { patch_attribute(path, "/", "layer_count", 1000); }},
      {"head_count 0", [](const std::string& path) { patch_attribute(path, "/", "head_count", 0); }},
      {"flow_size 99,999", [](const std::string& path) { patch_attribute(path, "/", "flow_size", 99999); }},
      {"a pinned head outside the model", value("/attention/heads", 0, 50)},
  };
  const auto dir = test::temp_dir();
  const std::string good = write_good_store(dir);
  ASSERT_NO_THROW(test::read_whole_store(good));
  for (const auto& bad : cases) {
    const std::string path = (dir / "bad.h5").string();
    std::filesystem::copy_file(good, path, std::filesystem::copy_options::overwrite_existing);
    bad.patch(path);
    EXPECT_THROW(test::read_whole_store(path), StoreError) << bad.what;
  }
}

TEST(StoreBadValues, IbSweepAndAnalysisReadersCheckTheirIndices) {
  const auto dir = test::temp_dir();
  const std::string ib = (dir / "ib.h5").string(), sweep = (dir / "sweep.h5").string();
  write_ib_file(ib, test::small_ib((dir / "run.h5").string()));
  write_sweep_file(sweep, test::small_sweep(), false);
  ASSERT_NO_THROW(read_ib_file(ib));
  ASSERT_NO_THROW(read_sweep_file(sweep));
  struct ResultCase {
    const char* what;
    std::string file;
    std::function<void(const std::string&)> patch;
    std::function<void(const std::string&)> read;
  };
  auto value = [](const char* dataset, hsize_t index, double v) {
    return [=](const std::string& path) { patch_value(path, dataset, index, v); };
  };
  auto read_ib = [](const std::string& path) { read_ib_file(path); };
  auto read_sweep = [](const std::string& path) { read_sweep_file(path); };
  const std::vector<ResultCase> cases = {
      {"a step in cluster 1e6", ib, value("/ib/step_cluster", 0, 1e6), read_ib},
      {"a step with label -3", ib, value("/ib/step_label", 1, -3), read_ib},
      {"a cluster example step 99,999", ib, value("/ib/clusters/examples", 0, 99999), read_ib},
      {"a majority label 1,000", ib, value("/ib/clusters/majority_label", 1, 1000), read_ib},
      {"a source step at sample -1", ib, value("/ib/source/sample", 0, -1), read_ib},
      {"a source span ending before it starts", ib, value("/ib/source/span_end", 1, -3), read_ib},
      {"a sweep head at layer -1", sweep, value("/sweep/heads", 0, -1), read_sweep},
  };
  for (const auto& bad : cases) {
    const std::string path = (dir / "bad.h5").string();
    std::filesystem::copy_file(bad.file, path, std::filesystem::copy_options::overwrite_existing);
    bad.patch(path);
    EXPECT_THROW(bad.read(path), StoreError) << bad.what;
  }

  // /analysis of a store: heartbeat counts for more heads than the store has.
  const std::string store_path = write_good_store(dir);
  AnalysisGroup analysis;
  analysis.sample_count = 4;
  analysis.layer_count = 2;
  analysis.head_count = 3;
  analysis.heartbeats.present = true;
  analysis.heartbeats.counts.assign(4 * 2 * 3, 1);
  analysis.heartbeats.telegraph_ranking = {{1, 2}};
  analysis.heartbeats.telegraph_score = {0.5};
  write_analysis_group(store_path, analysis);
  ASSERT_NO_THROW(read_analysis_group(store_path));
  patch_value(store_path, "/analysis/heartbeats/telegraph_ranking", 0, 7);
  EXPECT_THROW(read_analysis_group(store_path), StoreError) << "a telegraph head outside the model";
}
