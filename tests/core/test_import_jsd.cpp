// JSD importer: per-problem files in nested shard folders round-trip into a 1x1 model-level store (jsd at
// token t = jsd_trace[t-1], NaN at token 0, null -> NaN, metadata kept); bad files fail naming the file
// and line and leave nothing behind.
#include <nlohmann/json.hpp>

#include "core/store/reader.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

std::string problem_json(int idx, const std::vector<std::string>& trace, int n_tokens) {
  std::string tokens, values;
  for (int t = 0; t < n_tokens; ++t) tokens += (t ? ", " : "") + std::string("\"tok") + std::to_string(t) + "\"";
  for (std::size_t i = 0; i < trace.size(); ++i) values += (i ? ", " : "") + trace[i];
  return "{\n  \"idx\": " + std::to_string(idx) + ",\n  \"question\": \"What is " + std::to_string(idx) +
         "?\",\n  \"jsd_trace\": [" + values + "],\n  \"tokens\": [" + tokens + "],\n  \"n_tokens\": " +
         std::to_string(n_tokens) + ",\n  \"gold_answer\": \"4\",\n  \"predicted_answer\": \"5\"\n}\n";
}

}  // namespace

TEST(ImportJsd, RoundTripNestedShards) {
  const auto dir = test::temp_dir();
  test::write_file(dir / "src/shard_0/p0.json", problem_json(0, {"0.125", "0.5", "null"}, 4));
  test::write_file(dir / "src/shard_1/deeper/p1.json", problem_json(1, {"0.0625", "1e-3"}, 3));
  test::write_file(dir / "src/shard_1/notes.txt", "ignored: not .json");
  const auto out = dir / "jsd.h5";
  const auto summary = io::import_jsd(test::import_options({(dir / "src").string()}, out));
  EXPECT_EQ(summary.samples, 2);
  EXPECT_EQ(summary.sources.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".partial"));

  auto reader = store::StoreReader::open(out.string());
  EXPECT_TRUE(reader->complete());
  EXPECT_EQ(reader->layout().kind, store::RunKind::import);
  EXPECT_EQ(reader->layout().layer_count, 1);
  EXPECT_EQ(reader->layout().head_count, 1);
  EXPECT_EQ(reader->provenance().command_line, "headscope import (test)");
  const auto settings = nlohmann::json::parse(reader->provenance().settings_json);
  EXPECT_EQ(settings["importer"], "jsd");
  EXPECT_EQ(settings["sources"].size(), 2u);

  const auto trace0 = reader->head_trace("jsd", 0, {0, 0});
  ASSERT_EQ(trace0.size(), 4u);
  test::expect_same_float(NAN, trace0[0]);
  EXPECT_EQ(trace0[1], 0.125f);
  EXPECT_EQ(trace0[2], 0.5f);
  test::expect_same_float(NAN, trace0[3]);
  const auto trace1 = reader->head_trace("jsd", 1, {0, 0});
  ASSERT_EQ(trace1.size(), 3u);
  EXPECT_EQ(trace1[1], 0.0625f);
  EXPECT_EQ(trace1[2], 1e-3f);
  EXPECT_EQ(reader->token_text(1), (std::vector<std::string>{"tok0", "tok1", "tok2"}));
  const auto info = reader->sample(0);
  EXPECT_EQ(info.id, "0");
  const auto metadata = nlohmann::json::parse(info.metadata_json);
  EXPECT_EQ(metadata["question"], "What is 0?");
  EXPECT_EQ(metadata["gold_answer"], "4");
  EXPECT_EQ(metadata["predicted_answer"], "5");
  EXPECT_EQ(metadata["per_head"], false);
}

TEST(ImportJsd, CommittedSamplesImport) {
  const auto samples = test::samples_dir() / "jsd";
  HEADSCOPE_REQUIRE_PATH(samples);
  const auto out = test::temp_dir() / "jsd.h5";
  const auto summary = io::import_jsd(test::import_options({samples.string()}, out));
  EXPECT_EQ(summary.samples, 5);
}

TEST(ImportJsd, TruncatedJsonNamesFileAndLine) {
  const auto dir = test::temp_dir();
  const std::string good = problem_json(0, {"0.1", "0.2"}, 3);
  test::write_file(dir / "src/a.json", good);
  const auto bad = test::write_file(dir / "src/b.json", good.substr(0, good.size() / 2));
  const auto out = dir / "jsd.h5";
  test::expect_import_error([&] { io::import_jsd(test::import_options({(dir / "src").string()}, out)); },
                            {bad, "line ", "invalid JSON"}, out);
}

TEST(ImportJsd, WrongTypesAreNamed) {
  const auto dir = test::temp_dir();
  const auto out = dir / "jsd.h5";
  auto text = problem_json(0, {"0.1", "\"high\""}, 3);
  const auto bad = test::write_file(dir / "b.json", text);
  test::expect_import_error([&] { io::import_jsd(test::import_options({bad}, out)); },
                            {bad, "line 4", "jsd_trace", "element 1", "expected a number"}, out);
  const auto short_trace = test::write_file(dir / "c.json", problem_json(0, {"0.1"}, 3));
  test::expect_import_error([&] { io::import_jsd(test::import_options({short_trace}, out)); },
                            {short_trace, "n_tokens - 1 = 2", "found 1"}, out);
  const auto not_list = test::write_file(dir / "d.json", R"({"idx": 1, "jsd_trace": 0.5})");
  test::expect_import_error([&] { io::import_jsd(test::import_options({not_list}, out)); },
                            {not_list, "line 1", "expected a list of numbers"}, out);
  const auto array_top = test::write_file(dir / "e.json", "[1, 2]");
  test::expect_import_error([&] { io::import_jsd(test::import_options({array_top}, out)); }, {array_top, "expected one problem"}, out);
}

TEST(ImportJsd, ExistingOutputIsKept) {
  const auto dir = test::temp_dir();
  const auto src = test::write_file(dir / "a.json", problem_json(0, {"0.1"}, 2));
  const auto out = dir / "jsd.h5";
  test::write_file(out, "precious");
  EXPECT_THROW(io::import_jsd(test::import_options({src}, out)), io::ImportError);
  std::ifstream in(out);
  std::string kept;
  in >> kept;
  EXPECT_EQ(kept, "precious");
}
