// `headscope tokenize --tokenizer PATH [--jsonl] [--specials]`: reads text on stdin, one line per input
// (or, with --jsonl, one JSON object per line with a "text" field, so texts may hold newlines), and prints
// each line's token ids as a JSON array, one output line per input line. No BOS/EOS unless --specials.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/registry.h"
#include "capture/tokenizer/tokenizer.h"

namespace {

struct TokenizeOptions {
  std::string tokenizer_path;
  bool jsonl = false;
  bool specials = false;
};

std::string text_of_jsonl_line(const std::string& line, std::size_t line_number) {
  const std::string where = "stdin line " + std::to_string(line_number) + ": ";
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(where + "not valid JSON (" + error.what() + ")");
  }
  if (!record.is_object() || !record.contains("text") || !record["text"].is_string())
    throw std::runtime_error(where + "expected an object with a string \"text\" field");
  return record["text"].get<std::string>();
}

std::string ids_json(const std::vector<std::int32_t>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

void run_tokenize(const TokenizeOptions& options) {
  const auto tokenizer = headscope::tokenizer::load_tokenizer(options.tokenizer_path);
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    const std::string text = options.jsonl ? text_of_jsonl_line(line, line_number) : line;
    const std::string output = ids_json(tokenizer->encode(text, options.specials)) + "\n";
    std::fwrite(output.data(), 1, output.size(), stdout);
  }
  std::fflush(stdout);
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of each stdin line as a JSON array");
  auto options = std::make_shared<TokenizeOptions>();
  cmd->add_option("--tokenizer", options->tokenizer_path,
                  "tokenizer.json, tokenizer.model, or a checkpoint folder holding one")
      ->required();
  cmd->add_flag("--jsonl", options->jsonl, "Read JSON objects with a \"text\" field instead of plain lines");
  cmd->add_flag("--specials", options->specials, "Add BOS (and EOS where the tokenizer asks for it)");
  cmd->callback([options] { run_tokenize(*options); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
