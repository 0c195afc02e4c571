// CSV importer: rows map to query_norm, entropy, max_attention and k90 exactly (float32 store); empty and
// nan cells are NaN; absent rows are NaN; the layout comes from the first sample or --layers/--heads;
// a missing column, a non-numeric cell, a reappearing sample id each fail naming the file and line.
#include <nlohmann/json.hpp>

#include "core/io/metric_csv.h"
#include "core/store/reader.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

const char* kHeader = "sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff\n";

// Two samples, 2 layers x 2 heads, 3 and 2 tokens; entropy empty / nan at positions 0 and 1.
std::string two_samples() {
  std::string text = kHeader;
  for (int s = 0; s < 2; ++s)
    for (int layer = 0; layer < 2; ++layer)
      for (int head = 0; head < 2; ++head)
        for (int pos = 0; pos < 3 - s; ++pos) {
          const std::string entropy = pos == 0 ? "" : pos == 1 ? "nan" : std::to_string(0.5 + layer + 0.25 * head);
          text += "s" + std::to_string(s) + "," + std::to_string(layer) + "," + std::to_string(head) + "," + std::to_string(pos) + "," +
                  std::to_string(10 + s + layer * 0.5 + head * 0.25 + pos * 0.125) + "," + entropy + "," +
                  std::to_string(0.5 + 0.0625 * pos) + "," + std::to_string(1 + pos) + ".0\n";
        }
  return text;
}

}  // namespace

TEST(ImportCsv, RoundTrip) {
  const auto dir = test::temp_dir();
  const auto csv = test::write_file(dir / "m.csv", two_samples());
  const auto out = dir / "csv.h5";
  const auto summary = io::import_csv(test::import_options({csv}, out));
  EXPECT_EQ(summary.rows, 20);
  EXPECT_EQ(summary.samples, 2);
  auto reader = store::StoreReader::open(out.string());
  EXPECT_EQ(reader->layout().layer_count, 2);
  EXPECT_EQ(reader->layout().head_count, 2);
  EXPECT_EQ(reader->layout().metric_type, store::ValueType::float32);
  // Compare every cell with the value parsed independently from the source text.
  io::MetricCsvReader source(csv);
  io::MetricCsvRow row;
  int checked = 0;
  while (source.next(row)) {
    const int sample = row.sample_id == "s0" ? 0 : 1;
    const store::HeadRef head{row.layer, row.head};
    test::expect_same_float(row.query_norm, reader->head_trace("query_norm", sample, head)[row.token_pos]);
    test::expect_same_float(row.entropy, reader->head_trace("entropy", sample, head)[row.token_pos]);
    test::expect_same_float(row.max_attn, reader->head_trace("max_attention", sample, head)[row.token_pos]);
    test::expect_same_float(row.k_eff, reader->head_trace("k90", sample, head)[row.token_pos]);
    ++checked;
  }
  EXPECT_EQ(checked, 20);
  EXPECT_EQ(reader->head_trace("query_norm", 1, {1, 1})[1], 11.875f);
  EXPECT_TRUE(std::isnan(reader->head_trace("entropy", 0, {0, 0})[0]));
  EXPECT_TRUE(std::isnan(reader->head_trace("entropy", 0, {0, 0})[1]));
  EXPECT_EQ(reader->head_trace("entropy", 0, {1, 1})[2], 1.75f);
  EXPECT_EQ(reader->head_trace("k90", 0, {0, 1})[2], 3.0f);
  EXPECT_EQ(reader->sample(1).id, "s1");
  const auto metadata = nlohmann::json::parse(reader->sample(1).metadata_json);
  EXPECT_EQ(metadata["first_line"], 14);
  EXPECT_EQ(metadata["missing_cells"], 0);
}

TEST(ImportCsv, AbsentRowsAreNaNAndOptionsSetLayout) {
  const auto dir = test::temp_dir();
  const auto csv = test::write_file(dir / "m.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1\n\"a\",1,1,2,1.5,2.5,0.25,2\n");
  auto options = test::import_options({csv}, dir / "csv.h5");
  options.layers = 3;
  options.heads = 2;
  io::import_csv(options);
  auto reader = store::StoreReader::open(options.out);
  EXPECT_EQ(reader->layout().layer_count, 3);
  EXPECT_EQ(reader->sample(0).token_count, 3);
  EXPECT_EQ(reader->head_trace("entropy", 0, {1, 1})[2], 2.5f);
  EXPECT_TRUE(std::isnan(reader->head_trace("entropy", 0, {1, 1})[1]));
  EXPECT_TRUE(std::isnan(reader->head_trace("entropy", 0, {2, 0})[0]));
  EXPECT_EQ(nlohmann::json::parse(reader->sample(0).metadata_json)["missing_cells"], 3 * 3 * 2 - 2);
}

TEST(ImportCsv, CommittedSamplesImport) {
  const auto samples = test::samples_dir() / "csv";
  HEADSCOPE_REQUIRE_PATH(samples);
  const auto out = test::temp_dir() / "csv.h5";
  const auto summary = io::import_csv(test::import_options({samples.string()}, out));
  EXPECT_EQ(summary.samples, 3);
  auto reader = store::StoreReader::open(out.string());
  const auto entropy = reader->head_trace("entropy", 0, {2, 3});
  EXPECT_TRUE(std::isnan(entropy[0]) && std::isnan(entropy[1]) && !std::isnan(entropy[2]));
}

TEST(ImportCsv, BadInputs) {
  const auto dir = test::temp_dir();
  const auto out = dir / "csv.h5";
  auto run = [&](const std::string& name, const std::string& text, const std::vector<std::string>& fragments) {
    const auto csv = test::write_file(dir / name, text);
    auto expected = fragments;
    expected.push_back(csv);
    test::expect_import_error([&] { io::import_csv(test::import_options({csv}, out)); }, expected, out);
  };
  run("missing_column.csv", "sample_id,layer,head,token_pos,query_norm,max_attn,k_eff\na,0,0,0,1,0.5,1\n",
      {"line 1", "lacks column(s) entropy"});
  run("non_numeric.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1\na,0,0,1,1,high,0.5,1\n", {"line 3", "entropy", "'high'"});
  run("bad_int.csv", std::string(kHeader) + "a,0,x,0,1,2,0.5,1\n", {"line 2", "head", "non-negative integer"});
  run("short_row.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5\n", {"line 2", "expected 8"});
  run("long_row.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1,9\n", {"line 2", "expected 8"});
  run("reappears.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1\nb,0,0,0,1,2,0.5,1\na,0,0,1,1,2,0.5,1\n",
      {"line 4", "sample 'a' reappears", "grouped by sample_id"});
  run("duplicate.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1\na,0,0,0,1,2,0.5,1\n", {"line 3", "second row"});
  run("outside.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1\nb,5,0,0,1,2,0.5,1\n", {"line 3", "outside the layout"});
  run("empty.csv", "", {"line 1", "empty file"});
  run("header_only.csv", kHeader, {"no data rows"});
  run("unterminated.csv", std::string(kHeader) + "\"a,0,0,0,1,2,0.5,1\n", {"line 2", "unterminated"});
}
