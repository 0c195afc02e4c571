// The one source of samples (core/io/sample_source.h): token shards read by one rule — files of a folder
// in name order, the member tokens / input_ids / ids before the first, ids "<stem>:<row>" — and a prompt
// set line by line; exactly one source is required.
#include <gtest/gtest.h>

#include <fstream>

#include "core/io/prompt_set.h"
#include "core/io/sample_source.h"
#include "core/store/facts.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

std::vector<unsigned char> int_matrix(const std::vector<std::int32_t>& values, std::uint64_t rows) {
  return io::npy_bytes("<i4", {rows, values.size() / rows}, values.data(), values.size() * 4);
}

TEST(SampleSource, ShardFolderByOneRule) {
  const auto dir = test::temp_dir() / "shards";
  std::filesystem::create_directories(dir);
  // The first member is not the tokens: the rule picks input_ids over it.
  io::write_npz((dir / "b.npz").string(), {{"mask", int_matrix({1, 1, 1, 1}, 2)}, {"input_ids", int_matrix({5, 6, 7, 8}, 2)}}, true);
  io::write_npz((dir / "a.npz").string(), {{"other", int_matrix({9, 9, 9}, 1)}}, false);  // no preferred name: the first
  std::ofstream(dir / "notes.txt") << "not a shard";

  io::SampleReader reader({"", dir.string(), ""});
  EXPECT_EQ(reader.count(), 3);
  std::vector<std::string> ids;
  std::vector<std::vector<std::int32_t>> tokens;
  while (auto sample = reader.next()) {
    ids.push_back(sample->id);
    tokens.push_back(sample->ids);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"a:0", "b:0", "b:1"}));
  EXPECT_EQ(tokens, (std::vector<std::vector<std::int32_t>>{{9, 9, 9}, {5, 6}, {7, 8}}));

  io::SampleReader named({"", (dir / "b.npz").string(), "mask"});  // a member the caller names wins
  EXPECT_EQ(named.next()->ids, (std::vector<std::int32_t>{1, 1}));
}

TEST(SampleSource, PromptSetAndErrors) {
  const auto dir = test::temp_dir();
  std::ofstream(dir / "p.jsonl") << "{\"id\": \"x\", \"text\": \"hi\"}\n\n{\"ids\": [1, 2]}\n";
  io::SampleReader reader({(dir / "p.jsonl").string(), "", ""});
  EXPECT_EQ(reader.count(), 2);
  EXPECT_EQ(reader.next()->text, "hi");
  EXPECT_EQ(reader.next()->ids, (std::vector<std::int32_t>{1, 2}));
  EXPECT_FALSE(reader.next());
  EXPECT_THROW(io::SampleReader({"", "", ""}), std::runtime_error);
  EXPECT_THROW(io::SampleReader({"a.jsonl", "b.npz", ""}), std::runtime_error);
  std::filesystem::create_directories(dir / "empty");
  EXPECT_THROW(io::SampleReader({"", (dir / "empty").string(), ""}), std::runtime_error);
}

// Issue 19: MATH writes levels as "Level 3"; prompt sets and stored metadata read them as levels, an
// unknown level ("Level ?") is none, and a level that is neither is an error naming the line.
TEST(SampleSource, LevelsWrittenAsText) {
  EXPECT_EQ(store::parse_level_text("Level 3"), 3);
  EXPECT_EQ(store::parse_level_text(" level 12 "), 12);
  EXPECT_EQ(store::parse_level_text("4"), 4);
  EXPECT_FALSE(store::parse_level_text("Level ?"));
  EXPECT_FALSE(store::parse_level_text("Level 3b"));
  EXPECT_FALSE(store::parse_level_text(""));
  EXPECT_EQ(io::parse_prompt_line(R"({"text": "x", "level": "Level 5"})", 1, "p.jsonl").level, 5);
  EXPECT_EQ(io::parse_prompt_line(R"({"text": "x", "level": 2})", 1, "p.jsonl").level, 2);
  EXPECT_FALSE(io::parse_prompt_line(R"({"text": "x", "level": "Level ?"})", 1, "p.jsonl").level);
  EXPECT_THROW(io::parse_prompt_line(R"({"text": "x", "level": "hard"})", 7, "p.jsonl"), std::runtime_error);
  EXPECT_THROW(io::parse_prompt_line(R"({"text": "x", "level": [3]})", 7, "p.jsonl"), std::runtime_error);
  EXPECT_EQ(store::decode_sample_facts(R"({"level": "Level 4"})").level, 4);
  EXPECT_EQ(store::decode_sample_facts(R"({"level": 1})").level, 1);
}

}  // namespace
