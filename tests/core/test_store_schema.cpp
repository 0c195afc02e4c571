// The capture store's dataset table (core/store/schema_table.h) against the files and the docs: every
// dataset a writer creates is in the table with its dimension names, units and description as attributes,
// and docs/store-format.md carries one row per table entry, exactly as table_row() renders it (on a
// mismatch the test prints the rows to paste). Also: facts decoded once (facts.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/store/facts.h"
#include "core/store/h5.h"
#include "core/store/reader.h"
#include "core/store/schema.h"
#include "core/store/schema_table.h"
#include "core/store/writer.h"
#include "store_test_data.h"
#include "test_support.h"

using namespace headscope;
using namespace headscope::store;

namespace {

const char* type_words(schema::ElementType type) {
  switch (type) {
    case schema::ElementType::int32: return "int32";
    case schema::ElementType::int64: return "int64";
    case schema::ElementType::uint8: return "uint8";
    case schema::ElementType::float32: return "float32";
    case schema::ElementType::metric: return "float16 (or float32, `metric_type`)";
    case schema::ElementType::text: return "fixed-width UTF-8 string";
  }
  return "?";
}

// The docs row of a table entry: | `path` | [dims] type | units | description |
std::string table_row(const schema::DatasetSpec& spec) {
  std::string path = spec.path;
  if (spec.repeat == schema::Repeat::per_metric) path += "/<metric>";
  if (spec.repeat == schema::Repeat::per_pinned_head) path += "/L<layer>H<head>";
  std::string dims;
  for (const char* dim : spec.dims) dims += std::string(dims.empty() ? "" : ", ") + dim;
  std::string units = spec.units;
  if (spec.repeat == schema::Repeat::per_metric && units.empty()) units = "the metric's";
  std::string description = spec.description;
  if (spec.repeat == schema::Repeat::per_metric) description += description.empty() ? "the metric (below)" : "the metric";
  return "| `" + path + "` | `[" + dims + "]` " + type_words(spec.type) + " | " + (units.empty() ? "—" : units) + " | " +
         description + " |";
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST(StoreSchema, DocsHaveOneRowPerDatasetOfTheTable) {
  const auto docs = std::filesystem::path(HEADSCOPE_TEST_FIXTURES) / ".." / ".." / "docs" / "store-format.md";
  const std::string text = read_text(docs);
  ASSERT_FALSE(text.empty()) << docs;
  std::string missing;
  for (const auto& spec : schema::capture_datasets())
    if (text.find(table_row(spec) + "\n") == std::string::npos) missing += table_row(spec) + "\n";
  EXPECT_TRUE(missing.empty()) << "docs/store-format.md lacks these rows of core/store/schema_table.cpp:\n" << missing;
}

TEST(StoreSchema, EveryDatasetOfAFullStoreIsInTheTableWithItsAttributes) {
  const std::string path = (test::temp_dir() / "full.h5").string();
  {
    const StoreLayout full = test::small_layout();  // flow, a pinned head and embeddings: every dataset
    auto writer = StoreWriter::create(path, full, Provenance{});
    for (int i = 0; i < 3; ++i) writer->append(test::make_sample(full, i));
    writer->close();
  }
  const StoreLayout layout = StoreReader::open(path)->layout();  // closed again: HDF5 opens a file one way at a time
  ASSERT_GT(layout.flow_size, 0);
  ASSERT_FALSE(layout.pinned_heads.empty());
  ASSERT_GT(layout.embedding_dim, 0);
  h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  int checked = 0;
  for (const auto& spec : schema::capture_datasets())
    for (const auto& name : schema::dataset_paths(spec, layout)) {
      SCOPED_TRACE(name);
      h5::Id dataset = h5::open_dataset(file, name, path);
      EXPECT_EQ(h5::extent(dataset).size(), spec.dims.size());
      std::string dims;
      for (const char* dim : spec.dims) dims += std::string(dims.empty() ? "" : ",") + dim;
      EXPECT_EQ(h5::read_string_attribute(dataset, schema::kDimensions, path), dims);
      EXPECT_TRUE(h5::has_attribute(dataset, schema::kDescription));
      ++checked;
    }
  EXPECT_GT(checked, 28);
}

TEST(StoreFacts, DecodedOnceFromMetadataAndSettings) {
  const auto facts = decode_sample_facts(
      R"({"level": 3, "question": "2+2?", "capture": {"span_tokens": [[4, 9, "add"], [9, 12, "mul"]]}})");
  ASSERT_TRUE(facts.level.has_value());
  EXPECT_EQ(*facts.level, 3);
  EXPECT_EQ(facts.text, "2+2?");
  EXPECT_EQ(facts.step_starts, (std::vector<int>{4, 9}));
  const auto none = decode_sample_facts("not json");
  EXPECT_FALSE(none.level.has_value());
  EXPECT_TRUE(none.step_starts.empty());
  const auto settings = decode_run_settings(
      R"({"mode": "generate", "prompts": "p.jsonl", "add_bos": false, "flow_select": "last_k", "sources": ["a.csv"]})");
  EXPECT_EQ(settings.mode, "generate");
  EXPECT_EQ(settings.prompts, "p.jsonl");
  EXPECT_FALSE(settings.add_bos);
  EXPECT_EQ(settings.flow_select, "last_k");
  EXPECT_EQ(settings.sources, (std::vector<std::string>{"a.csv"}));
  EXPECT_TRUE(decode_run_settings("{}").add_bos);
}
