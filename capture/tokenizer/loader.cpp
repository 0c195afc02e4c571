// load_tokenizer: finds the tokenizer file of a path (a file, or a checkpoint folder holding
// tokenizer.json or tokenizer.model), reads tokenizer_config.json beside it for BOS/EOS, and builds the
// right Tokenizer. Every failure, including malformed JSON, is a TokenizerError naming the file.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/hf_tokenizer.h"
#include "capture/tokenizer/sentencepiece_tokenizer.h"
#include "capture/tokenizer/spec_reader.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw TokenizerError(path.string() + ": cannot open the file");
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& error) {
    throw TokenizerError(source + ": malformed JSON: " + error.what());
  }
}

bool looks_like_json(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{';
  }
  return false;
}

// tokenizer_config.json beside the tokenizer file, or null.
nlohmann::json read_config_beside(const fs::path& tokenizer_file) {
  const fs::path config_path = tokenizer_file.parent_path() / "tokenizer_config.json";
  std::error_code error;
  if (!fs::is_regular_file(config_path, error)) return nullptr;
  nlohmann::json config = parse_json(read_file(config_path), config_path.string());
  if (!config.is_object()) throw TokenizerError(config_path.string() + ": expected a JSON object");
  return config;
}

std::unique_ptr<Tokenizer> build_hf(std::string_view json_text, const std::string& source, const nlohmann::json& config,
                                    const std::string& config_source) {
  const nlohmann::json root = parse_json(json_text, source);
  const SpecReader reader(source);
  reader.expect_object(root, "");
  try {
    return std::make_unique<HfTokenizer>(root, reader, config, SpecReader(config_source));
  } catch (const nlohmann::json::exception& error) {  // a type our checks missed; still name the file
    throw TokenizerError(source + ": unexpected content: " + error.what());
  }
}

bool config_flag(const nlohmann::json& config, const char* key, bool fallback, const std::string& config_source) {
  if (!config.is_object()) return fallback;
  return SpecReader(config_source).bool_or(config, key, fallback, "");
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json_text(std::string_view json_text, const std::string& source_name) {
  return build_hf(json_text, source_name, nullptr, source_name);
}

std::string find_tokenizer_file(const std::string& folder) {
  std::error_code error;
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (fs::is_regular_file(fs::path(folder) / name, error)) return (fs::path(folder) / name).string();
  return {};
}

std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& folder) {
  const std::string file = find_tokenizer_file(folder);
  return file.empty() ? nullptr : load_tokenizer(file);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  std::error_code error;
  fs::path file = path;
  if (fs::is_directory(file, error)) {
    file = find_tokenizer_file(path);
    if (file.empty()) throw TokenizerError(path + ": the folder holds neither tokenizer.json nor tokenizer.model");
  } else if (!fs::exists(file, error)) {
    throw TokenizerError(path + ": no such file or folder");
  }
  const std::string source = file.string();
  const nlohmann::json config = read_config_beside(file);
  const std::string config_source = (file.parent_path() / "tokenizer_config.json").string();
  const std::string contents = read_file(file);
  if (looks_like_json(contents) || file.extension() == ".json") return build_hf(contents, source, config, config_source);
  return std::make_unique<SentencePieceTokenizer>(source, config_flag(config, "add_bos_token", true, config_source),
                                                  config_flag(config, "add_eos_token", false, config_source));
}

}  // namespace headscope::tokenizer
