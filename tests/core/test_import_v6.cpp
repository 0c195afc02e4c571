// V6 importer (core/io/v6_import.cpp): a results list whose first problem names an attention npz
// [layer, head, seq, seq] by a path relative to a parent folder, the second none and the third a file that
// is not there: one 1 x 1 model-level store, jsd at token s = step s (aligned to the attention's last
// position), the npz averaged over layers and heads as L0H0's pinned attention, the missing npz noted;
// bad results fail naming the file and what was wrong, leaving nothing behind.
#include <nlohmann/json.hpp>

#include "core/io/npz.h"
#include "core/store/reader.h"
#include "import_test_util.h"

using namespace headscope;

TEST(ImportV6, TraceAndAttentionRoundTripAndAMissingNpzIsNoted) {
  const auto dir = test::temp_dir() / "v6";
  // attention [2 layers, 1 head, 4, 4]: layer 0 all 0.25, layer 1 the identity -> mean 0.625 / 0.125.
  std::vector<float> attention(2 * 4 * 4, 0.25f);
  for (int i = 0; i < 16; ++i) attention[16 + i] = i % 5 == 0 ? 1.0f : 0.0f;
  std::filesystem::create_directories(dir / "data/v6_attention");
  io::write_npz((dir / "data/v6_attention/attention_00000.npz").string(),
                {{"attention", io::npy_bytes("<f4", {2, 1, 4, 4}, attention.data(), attention.size() * 4)}}, true);
  test::write_file(dir / "v6/v6_attention/results_partial.json", R"([
    {"idx": "p0", "jsd_trace": [{"step": 1, "jsd": 0.25, "layer": 3}, {"step": 2, "jsd": 0.5}],
     "attention_file": "data/v6_attention/attention_00000.npz", "answer": "7"},
    {"idx": "p1", "jsd_trace": [{"step": 1, "jsd": 0.125}, {"step": 3, "jsd": null}]},
    {"idx": "p2", "jsd_trace": [{"step": 1, "jsd": 0.0625}], "attention_file": "data/v6_attention/attention_00099.npz"}
  ])");
  const auto out = dir / "v6.h5";
  const auto summary = io::import_v6(test::import_options({(dir / "v6").string()}, out));
  EXPECT_EQ(summary.samples, 3);
  auto reader = store::StoreReader::open(out.string());
  EXPECT_EQ(reader->layout().layer_count, 1);
  ASSERT_EQ(reader->layout().pinned_heads.size(), 1u);

  const auto p0 = reader->head_trace("jsd", 0, {0, 0});  // 4 positions: the trace's step 2 is the last
  ASSERT_EQ(p0.size(), 4u);
  test::expect_same_float(NAN, p0[1]);
  EXPECT_EQ(p0[2], 0.25f);
  EXPECT_EQ(p0[3], 0.5f);
  const auto pinned = reader->pinned_attention(0, {0, 0});
  ASSERT_TRUE(pinned.has_value());
  ASSERT_EQ(pinned->size(), 16u);
  EXPECT_FLOAT_EQ((*pinned)[0], 0.625f);
  EXPECT_FLOAT_EQ((*pinned)[1], 0.125f);
  EXPECT_EQ(nlohmann::json::parse(reader->sample(0).metadata_json)["answer"], "7");

  const auto p1 = reader->head_trace("jsd", 1, {0, 0});  // no attention: the trace's own 4 positions
  ASSERT_EQ(p1.size(), 4u);
  EXPECT_EQ(p1[1], 0.125f);
  test::expect_same_float(NAN, p1[2]);
  const auto p2 = nlohmann::json::parse(reader->sample(2).metadata_json);
  EXPECT_EQ(p2["attention_missing"], "data/v6_attention/attention_00099.npz");
  const auto settings = nlohmann::json::parse(reader->provenance().settings_json);
  EXPECT_EQ(settings["importer"], "v6");
  EXPECT_NE(settings["notes"].dump().find("attention_00099.npz"), std::string::npos);
}

TEST(ImportV6, BadResultsNameTheFileAndWhatWasWrong) {
  const auto dir = test::temp_dir() / "v6-bad";
  const auto out = dir / "bad.h5";
  const std::pair<const char*, const char*> cases[] = {
      {R"({"jsd_trace": [0.1, 0.2]})", "expected {\"step\": integer"},
      {R"({"jsd_trace": [{"step": 1, "jsd": "high"}]})", "'jsd' must be a number"},
      {R"({"jsd_trace": [{"step": 1, "jsd": 0.1}, {"step": 1, "jsd": 0.2}]})", "appears twice"},
      {R"({"trace": []})", "jsd_trace"},
      {R"("text")", "expected a V6 result"},
  };
  int i = 0;
  for (const auto& [text, fragment] : cases) {
    const auto file = test::write_file(dir / ("r" + std::to_string(i++) + ".json"), text);
    test::expect_import_error([&] { io::import_v6(test::import_options({file}, out)); }, {file, fragment}, out);
  }
  // An npz without a square float array: named in the error.
  const std::vector<std::int32_t> ids(6, 1);
  io::write_npz((dir / "a.npz").string(), {{"tokens", io::npy_bytes("<i4", {2, 3}, ids.data(), ids.size() * 4)}}, false);
  const auto file = test::write_file(dir / "npz.json", R"({"jsd_trace": [{"step": 1, "jsd": 0.1}], "attention_file": "a.npz"})");
  test::expect_import_error([&] { io::import_v6(test::import_options({file}, out)); }, {"a.npz", "no float array"}, out);
}
