// IAF importer: chunks stream into a sparse store — iaf where the source had a head, NaN elsewhere, and
// iaf_present recording which heads each step had; layout from the largest head or --layers/--heads;
// truncated chunks and wrong types fail naming the file and line, leaving nothing behind.
#include <nlohmann/json.hpp>

#include "core/store/reader.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

const char* kChunk = R"([
  {"idx": 7, "problem": "2+2?", "solution": "4", "generated_cot": "2+2=4", "num_tokens": 3, "top_positions": [0, 2],
   "iaf_traces": [{"L2H1": 0.75, "L0H0": 0.25}, {"L2H1": 0.5}, {"L1H3": 1.0, "L0H0": null}]},
  {"idx": 8, "problem": "3+3?", "solution": "6", "generated_cot": "6", "num_tokens": 1, "top_positions": [],
   "iaf_traces": [{"L0H2": 0.125}]}
]
)";

}  // namespace

TEST(ImportIaf, RoundTripSparse) {
  const auto dir = test::temp_dir();
  const auto chunk = test::write_file(dir / "chunk_000.json", kChunk);
  const auto out = dir / "iaf.h5";
  const auto summary = io::import_iaf(test::import_options({chunk}, out));
  EXPECT_EQ(summary.samples, 2);
  auto reader = store::StoreReader::open(out.string());
  EXPECT_EQ(reader->layout().layer_count, 3);  // L2 is the largest layer
  EXPECT_EQ(reader->layout().head_count, 4);   // H3 the largest head
  EXPECT_EQ(reader->token_count(), 4);
  const auto l2h1 = reader->head_trace("iaf", 0, {2, 1});
  ASSERT_EQ(l2h1.size(), 3u);
  EXPECT_EQ(l2h1[0], 0.75f);
  EXPECT_EQ(l2h1[1], 0.5f);
  test::expect_same_float(NAN, l2h1[2]);  // not in step 2's top heads: never invented
  EXPECT_EQ(reader->head_trace("iaf_present", 0, {2, 1}), (std::vector<float>{1, 1, 0}));
  const auto l0h0 = reader->head_trace("iaf", 0, {0, 0});
  EXPECT_EQ(l0h0[0], 0.25f);
  test::expect_same_float(NAN, l0h0[1]);
  test::expect_same_float(NAN, l0h0[2]);  // present but null in the source
  EXPECT_EQ(reader->head_trace("iaf_present", 0, {0, 0}), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(reader->head_trace("iaf", 1, {0, 2}), (std::vector<float>{0.125f}));
  // Every head absent from the source stays NaN / not present.
  for (float v : reader->head_trace("iaf", 0, {1, 0})) test::expect_same_float(NAN, v);
  const auto metadata = nlohmann::json::parse(reader->sample(0).metadata_json);
  EXPECT_EQ(reader->sample(0).id, "7");
  EXPECT_EQ(metadata["problem"], "2+2?");
  EXPECT_EQ(metadata["generated_cot"], "2+2=4");
  EXPECT_EQ(metadata["top_positions"], nlohmann::json::array({0, 2}));
  EXPECT_EQ(metadata["heads_present"], nlohmann::json::array({"L0H0", "L1H3", "L2H1"}));
  EXPECT_EQ(metadata["top_k"], 2);
  EXPECT_FALSE(metadata.contains("iaf_traces"));
}

TEST(ImportIaf, LayoutFromOptions) {
  const auto dir = test::temp_dir();
  const auto chunk = test::write_file(dir / "chunk.json", kChunk);
  auto options = test::import_options({chunk}, dir / "iaf.h5");
  options.layers = 28;
  options.heads = 16;
  io::import_iaf(options);
  auto reader = store::StoreReader::open(options.out);
  EXPECT_EQ(reader->layout().layer_count, 28);
  EXPECT_EQ(reader->layout().head_count, 16);
  options.layers = 2;  // L2H1 does not fit
  options.out = (dir / "small.h5").string();
  test::expect_import_error([&] { io::import_iaf(options); }, {chunk, "line 3", "L2H1", "outside the layout"}, options.out);
}

TEST(ImportIaf, CommittedSamplesImport) {
  const auto samples = test::samples_dir() / "iaf";
  HEADSCOPE_REQUIRE_PATH(samples);
  const auto out = test::temp_dir() / "iaf.h5";
  const auto summary = io::import_iaf(test::import_options({samples.string()}, out));
  EXPECT_EQ(summary.samples, 6);
  auto reader = store::StoreReader::open(out.string());
  // Sparse top-10: each step has exactly 10 present heads.
  const auto first = reader->sample(0);
  std::vector<float> present_count(static_cast<std::size_t>(first.token_count), 0.0f);
  for (int layer = 0; layer < reader->layout().layer_count; ++layer) {
    const auto slice = reader->layer_slice("iaf_present", 0, layer);  // [token, head]
    for (int t = 0; t < first.token_count; ++t)
      for (int h = 0; h < reader->layout().head_count; ++h) present_count[t] += slice[t * reader->layout().head_count + h];
  }
  for (float c : present_count) EXPECT_EQ(c, 10.0f);
}

TEST(ImportIaf, TruncatedChunk) {
  const auto dir = test::temp_dir();
  const std::string text = kChunk;
  const auto chunk = test::write_file(dir / "chunk.json", text.substr(0, text.find("\"idx\": 8") + 4));
  const auto out = dir / "iaf.h5";
  auto options = test::import_options({chunk}, out);
  options.layers = 4;  // skip the head scan so the error comes from the streaming pass
  options.heads = 4;
  test::expect_import_error([&] { io::import_iaf(options); }, {chunk, "line 4", "invalid JSON"}, out);
  options.layers = 0;
  test::expect_import_error([&] { io::import_iaf(options); }, {chunk, "line 4", "invalid JSON"}, out);
}

TEST(ImportIaf, WrongTypes) {
  const auto dir = test::temp_dir();
  const auto out = dir / "iaf.h5";
  auto options = test::import_options({}, out);
  options.layers = options.heads = 4;
  options.inputs = {test::write_file(dir / "a.json", R"({"iaf_traces": []})")};
  test::expect_import_error([&] { io::import_iaf(options); }, {"a.json", "line 1", "expected a list of problems"}, out);
  options.inputs = {test::write_file(dir / "b.json", "[\n {\"idx\": 1,\n  \"iaf_traces\": {\"L0H0\": 1}}\n]")};
  test::expect_import_error([&] { io::import_iaf(options); }, {"b.json", "line 3", "'iaf_traces' must be a list"}, out);
  options.inputs = {test::write_file(dir / "c.json", "[\n {\"idx\": 1,\n  \"iaf_traces\": [{\"L0H0\": \"x\"}]}\n]")};
  test::expect_import_error([&] { io::import_iaf(options); }, {"c.json", "line 3", "expected a number"}, out);
  options.inputs = {test::write_file(dir / "d.json", "[\n {\"idx\": 1,\n  \"iaf_traces\": [{\"layer0\": 0.5}]}\n]")};
  test::expect_import_error([&] { io::import_iaf(options); }, {"d.json", "line 3", "not a head name"}, out);
  options.inputs = {test::write_file(dir / "e.json", "[\n {\"idx\": 1}\n]")};
  test::expect_import_error([&] { io::import_iaf(options); }, {"e.json", "line 2", "expected a field 'iaf_traces'"}, out);
}
