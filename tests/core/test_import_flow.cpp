// Flow importer and the .npy reader: float16 and float32 arrays (per-problem and averaged) round-trip
// into /flow/matrices exactly, side files land verbatim in /analysis/imported; a wrong magic, header,
// dtype, byte order, Fortran order or data size each fail naming the file and byte offset.
#include <hdf5.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/store/h5.h"
#include "core/store/reader.h"
#include "core/util/half.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

std::string bytes_text(const std::vector<unsigned char>& bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace

TEST(ImportFlow, RoundTripFloat16AndAveraged) {
  const auto dir = test::temp_dir();
  const int problems = 3, layers = 2, heads = 3, k = 4;
  std::vector<std::uint16_t> halves;
  for (int i = 0; i < problems * layers * heads * k * k; ++i) halves.push_back(float_to_half(static_cast<float>(i % 97) / 64.0f));
  io::write_npy((dir / "src/flow.npy").string(), "<f2", {problems, layers, heads, k, k}, (std::filesystem::create_directories(dir / "src"), halves.data()), halves.size() * 2);
  std::vector<float> mean(static_cast<std::size_t>(layers * heads * k * k));
  for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = 0.001f * static_cast<float>(i);
  io::write_npy((dir / "src/flow_mean.npy").string(), "<f4", {layers, heads, k, k}, mean.data(), mean.size() * 4);
  test::write_file(dir / "src/rankings.csv", "rank,layer,head,composite\n1,1,2,0.9\n");
  test::write_file(dir / "src/summary.json", R"({"top_composite": 0.9})");
  const auto out = dir / "flow.h5";
  const auto summary = io::import_flow(test::import_options({(dir / "src").string()}, out));
  EXPECT_EQ(summary.samples, problems + 1);

  auto reader = store::StoreReader::open(out.string());
  EXPECT_EQ(reader->layout().flow_size, k);
  EXPECT_EQ(reader->layout().layer_count, layers);
  EXPECT_TRUE(reader->layout().metrics.empty());
  const std::size_t per_problem = static_cast<std::size_t>(layers * heads * k * k);
  // Files are taken in sorted order: flow.npy (3 problems), then flow_mean.npy.
  for (int p = 0; p < problems; ++p) {
    const auto flow = reader->flow(p);
    ASSERT_EQ(flow.size(), per_problem);
    for (std::size_t i = 0; i < per_problem; ++i) EXPECT_EQ(flow[i], half_to_float(halves[p * per_problem + i]));
    EXPECT_EQ(reader->sample(p).id, "flow[" + std::to_string(p) + "]");
  }
  EXPECT_EQ(reader->flow(problems), mean);
  EXPECT_EQ(reader->flow_positions(0), (std::vector<std::int32_t>{0, 1, 2, 3}));
  const auto metadata = nlohmann::json::parse(reader->sample(problems).metadata_json);
  EXPECT_EQ(metadata["averaged"], true);
  EXPECT_EQ(metadata["flow_positions_known"], false);
  EXPECT_EQ(nlohmann::json::parse(reader->sample(0).metadata_json)["source_dtype"], "float16");

  reader.reset();  // HDF5 refuses a second open of the file with other flags
  h5::Id file(H5Fopen(out.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  ASSERT_TRUE(file.valid());
  EXPECT_EQ(h5::read_string_dataset(file, "/analysis/imported/rankings.csv", "test"), "rank,layer,head,composite\n1,1,2,0.9\n");
  EXPECT_EQ(h5::read_string_dataset(file, "/analysis/imported/summary.json", "test"), R"({"top_composite": 0.9})");
}

TEST(ImportFlow, CommittedSamplesImport) {
  const auto samples = test::samples_dir() / "flow";
  HEADSCOPE_REQUIRE_PATH(samples);
  const auto out = test::temp_dir() / "flow.h5";
  const auto summary = io::import_flow(test::import_options({samples.string()}, out));
  EXPECT_EQ(summary.samples, 6);
}

TEST(ImportFlow, NpyHeaderErrorsNameOffset) {
  const float data[4] = {1, 2, 3, 4};
  const auto good = io::npy_bytes("<f4", {2, 2}, data, sizeof data);
  auto expect_error = [&](std::vector<unsigned char> bytes, const std::vector<std::string>& fragments) {
    try {
      io::parse_npy("x.npy", bytes);
      ADD_FAILURE() << "expected an error";
    } catch (const io::ImportError& e) {
      for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << f << " not in " << e.what();
    }
  };
  auto bad_magic = good;
  bad_magic[1] = 'X';
  expect_error(bad_magic, {"x.npy", "byte 0", "magic"});
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string text = bytes_text(good);
    text.replace(text.find(from), from.size(), to);
    return std::vector<unsigned char>(text.begin(), text.end());
  };
  expect_error(replace("'descr'", "'dtype'"), {"x.npy", "byte 11", "unexpected key 'dtype'"});
  expect_error(replace("(2, 2)", "(2; 2)"), {"x.npy", "byte ", "shape tuple"});
  expect_error(replace("<f4", ">f4"), {"x.npy", "byte 10", "big-endian"});
  expect_error(replace("<f4", "<c8"), {"x.npy", "unsupported dtype '<c8'"});
  expect_error(replace("False", "True "), {"x.npy", "Fortran"});
  expect_error(replace("(2, 2)", "(2, 3)"), {"x.npy", "byte 128", "24 bytes of data expected, found 16"});
  auto truncated = good;
  truncated.resize(truncated.size() - 3);
  expect_error(truncated, {"x.npy", "16 bytes of data expected, found 13"});
  auto version = good;
  version[6] = 9;
  expect_error(version, {"byte 6", "version 9"});
}

TEST(ImportFlow, BadArraysFailAndLeaveNothing) {
  const auto dir = test::temp_dir();
  const auto out = dir / "flow.h5";
  const float data[2 * 2 * 3 * 3] = {};
  auto write = [&](const std::string& name, const std::string& descr, std::vector<std::uint64_t> shape) {
    const auto path = (dir / name).string();
    std::size_t count = 1;
    for (auto d : shape) count *= d;
    io::write_npy(path, descr, shape, data, count * 4);
    return path;
  };
  const auto wrong_rank = write("rank.npy", "<f4", {2, 18});
  test::expect_import_error([&] { io::import_flow(test::import_options({wrong_rank}, out)); }, {wrong_rank, "expected shape"}, out);
  const auto not_square = write("square.npy", "<f4", {2, 3, 3, 1});
  test::expect_import_error([&] { io::import_flow(test::import_options({not_square}, out)); }, {not_square, "square"}, out);
  const auto ints = write("ints.npy", "<i4", {1, 2, 3, 3});
  test::expect_import_error([&] { io::import_flow(test::import_options({ints}, out)); }, {ints, "float16 or float32"}, out);
  // A good array followed by a big-endian one: the first is imported, then the error; nothing left.
  const auto good = write("a_good.npy", "<f4", {2, 1, 3, 3});
  std::string text;
  {
    std::ifstream in(good, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("<f4"), 3, ">f4");
  const auto big = test::write_file(dir / "b_big.npy", text);
  test::expect_import_error([&] { io::import_flow(test::import_options({good, big}, out)); }, {big, "byte 10", "big-endian"}, out);
  const auto summary = test::write_file(dir / "summary.json", "{\"top\": [1, 2");
  test::expect_import_error([&] { io::import_flow(test::import_options({good, summary}, out)); }, {summary, "line 1", "invalid JSON"}, out);
}
