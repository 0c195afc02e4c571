// `headscope tokenize`: one JSON array of ids per input line (plain or --jsonl), BOS with --specials,
// and a non-zero exit with a message naming the problem for a bad tokenizer or bad input.
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_support.h"

using namespace headscope;

namespace {
std::string tiny_tokenizer(const char* name) { return (test::fixtures_dir() / "tokenizers" / name).string(); }
}  // namespace

TEST(CliTokenize, PlainLinesGiveOneArrayEach) {
  const auto result = test::run_headscope("tokenize --tokenizer " + tiny_tokenizer("tiny_metaspace.json"), "ab hi\n\nab c\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[267,269]\n[]\n[267,259,262]\n");
}

TEST(CliTokenize, JsonlAndSpecials) {
  const auto result = test::run_headscope("tokenize --jsonl --specials --tokenizer " + tiny_tokenizer("tiny_metaspace.json"),
                                          "{\"text\": \"ab\\nhi\"}\n{\"text\": \"\", \"id\": 3}\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[1,267,13,268]\n[1]\n");  // the newline through byte fallback: <0x0A> is id 13
}

TEST(CliTokenize, ReferenceLinesThroughJsonl) {
  const auto dir = test::shared_dir() / "fixtures" / "tokenizers";
  HEADSCOPE_REQUIRE_PATH(dir / "reference.jsonl");
  std::ifstream file(dir / "reference.jsonl");
  std::string input, line;
  std::vector<nlohmann::json> expected;
  while (std::getline(file, line) && expected.size() < 50) {
    input += line + "\n";
    expected.push_back(nlohmann::json::parse(line));
  }
  for (const char* name : {"gpt2", "mistral"}) {
    const auto result = test::run_headscope("tokenize --jsonl --tokenizer " + (dir / name).string(), input);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    std::istringstream out(result.out);
    for (const auto& record : expected) {
      ASSERT_TRUE(std::getline(out, line)) << name;
      EXPECT_EQ(nlohmann::json::parse(line), record[name]) << name << ": " << record["text"];
    }
  }
}

TEST(CliTokenize, ErrorsExitNonZeroWithAMessage) {
  const auto missing = test::run_headscope("tokenize --tokenizer /nonexistent/tokenizer.json", "hi\n");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/tokenizer.json"), std::string::npos) << missing.err;
  const auto bad_jsonl = test::run_headscope("tokenize --jsonl --tokenizer " + tiny_tokenizer("tiny_metaspace.json"),
                                             "{\"text\": \"ab\"}\nnot json\n");
  EXPECT_NE(bad_jsonl.exit_code, 0);
  EXPECT_NE(bad_jsonl.err.find("line 2"), std::string::npos) << bad_jsonl.err;
  const auto no_tokenizer = test::run_headscope("tokenize", "hi\n");
  EXPECT_NE(no_tokenizer.exit_code, 0);
}
