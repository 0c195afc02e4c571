// Malformed tokenizer files: each must fail with a TokenizerError whose message names the file (and, for
// JSON, the member at fault) — never a crash or a silent half-loaded tokenizer.
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/tokenizer.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using headscope::tokenizer::load_tokenizer;
using headscope::tokenizer::TokenizerError;

std::string read_fixture(const std::string& name) {
  std::ifstream file(headscope::test::fixtures_dir() / "tokenizers" / name, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

fs::path write_file(const fs::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// Loads `path` expecting a TokenizerError whose message contains the path and every one of `fragments`.
void expect_load_error(const fs::path& path, std::initializer_list<std::string> fragments) {
  try {
    load_tokenizer(path.string());
    ADD_FAILURE() << "loading " << path << " did not fail";
  } catch (const TokenizerError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << "message does not name the file: " << message;
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos) << "message lacks '" << fragment << "': " << message;
  }
}

// Writes the byte-level fixture after `edit` into a fresh folder and expects the load to fail.
void expect_edited_fixture_error(const std::function<void(nlohmann::json&)>& edit, std::initializer_list<std::string> fragments) {
  nlohmann::json spec = nlohmann::json::parse(read_fixture("tiny_bytelevel.json"));
  edit(spec);
  expect_load_error(write_file(headscope::test::temp_dir() / "tokenizer.json", spec.dump()), fragments);
}

TEST(TokenizerBadInput, MissingFileOrFolder) {
  expect_load_error("/nonexistent/headscope/tokenizer.json", {"no such file"});
  expect_load_error(headscope::test::temp_dir(), {"neither tokenizer.json nor tokenizer.model"});
}

TEST(TokenizerBadInput, MalformedAndTruncatedJson) {
  const fs::path dir = headscope::test::temp_dir();
  expect_load_error(write_file(dir / "broken.json", "{ \"model\": [1, 2,, }"), {"malformed JSON"});
  const std::string whole = read_fixture("tiny_bytelevel.json");
  expect_load_error(write_file(dir / "truncated.json", whole.substr(0, whole.size() / 2)), {"malformed JSON"});
  expect_load_error(write_file(dir / "array.json", "[1, 2, 3]"), {"expected an object"});
  expect_load_error(write_file(dir / "empty.json", ""), {"malformed JSON"});
}

TEST(TokenizerBadInput, MissingOrUnknownModel) {
  expect_edited_fixture_error([](nlohmann::json& spec) { spec.erase("model"); }, {"model", "missing"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["type"] = "WordPiece"; },
                              {"model.type", "unsupported model type 'WordPiece'"});
}

TEST(TokenizerBadInput, MergesReferencingUnknownTokens) {
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["merges"].push_back("Ġ nosuchtoken"); },
                              {"model.merges[6]", "'nosuchtoken' is not in model.vocab"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["merges"].push_back({"x", "q"}); },
                              {"model.merges[6]", "merged token 'xq' is not in model.vocab"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["merges"].push_back("a b c"); },
                              {"model.merges[6]", "exactly one space"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["unk_token"] = "<nothere>"; },
                              {"model.unk_token"});
}

TEST(TokenizerBadInput, WrongTypes) {
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["vocab"]["a"] = "97"; },
                              {"model.vocab['a']", "expected an integer token id"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["vocab"]["a"] = -4; }, {"out of range"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["vocab"]["a"] = 1e12; }, {"model.vocab['a']"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["merges"] = 7; }, {"model.merges", "expected an array"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["merges"][0] = 7; }, {"model.merges[0]"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["added_tokens"] = "none"; }, {"added_tokens", "expected an array"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["added_tokens"][0]["special"] = "yes"; },
                              {"added_tokens[0].special", "expected true or false"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["added_tokens"][1].erase("id"); }, {"added_tokens[1].id", "missing"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["normalizer"] = {{"type", 3}}; },
                              {"normalizer.type", "expected a string"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["model"]["byte_fallback"] = 1; }, {"model.byte_fallback"});
}

TEST(TokenizerBadInput, UnsupportedOrBrokenPipelineSteps) {
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["normalizer"] = {{"type", "Precompiled"}}; },
                              {"unsupported normalizer type 'Precompiled'"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["pre_tokenizer"] = {{"type", "BertPreTokenizer"}}; },
                              {"unsupported pre_tokenizer type"});
  expect_edited_fixture_error(
      [](nlohmann::json& spec) { spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed"; },
      {"regex pattern does not compile"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways"; },
                              {"unknown split behavior 'Sideways'"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["decoder"] = {{"type", "WordPiece"}}; },
                              {"unsupported decoder type 'WordPiece'"});
  expect_edited_fixture_error([](nlohmann::json& spec) { spec["post_processor"] = {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}}}; },
                              {"special token '<s>' is not listed"});
}

TEST(TokenizerBadInput, GarbageSentencePieceModel) {
  const fs::path dir = headscope::test::temp_dir();
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 251));
  expect_load_error(write_file(dir / "tokenizer.model", garbage), {"SentencePiece"});
  expect_load_error(write_file(dir / "tokenizer.model", ""), {"empty"});
  expect_load_error(dir, {"SentencePiece"});  // the folder resolves to its tokenizer.model
}

TEST(TokenizerBadInput, MalformedTokenizerConfigBeside) {
  const fs::path dir = headscope::test::temp_dir();
  write_file(dir / "tokenizer.json", read_fixture("tiny_metaspace.json"));
  write_file(dir / "tokenizer_config.json", "{\"bos_token\": ");
  try {
    load_tokenizer(dir.string());
    ADD_FAILURE() << "a malformed tokenizer_config.json was accepted";
  } catch (const TokenizerError& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer_config.json"), std::string::npos) << error.what();
  }
  write_file(dir / "tokenizer_config.json", "{\"add_bos_token\": \"yes\"}");
  EXPECT_THROW(load_tokenizer(dir.string()), TokenizerError);
}

}  // namespace
