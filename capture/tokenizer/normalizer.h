// The `normalizer` of a tokenizer.json: Unicode normal forms (NFC, NFD, NFKC, NFKD through utf8proc),
// Lowercase, Prepend, Replace, Strip, and Sequence of these. Applied to each piece of text between added
// tokens, before pre-tokenization, as HuggingFace tokenizers does.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace headscope::tokenizer {

class SpecReader;

class Normalizer {
 public:
  // `spec` is the normalizer member (null: no normalisation). Throws TokenizerError for unknown types.
  Normalizer(const nlohmann::json& spec, const SpecReader& reader);
  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // `text` is valid UTF-8; so is the result.
  std::string apply(std::string_view text) const;

  struct Step;

 private:
  std::vector<std::unique_ptr<Step>> steps_;
};

}  // namespace headscope::tokenizer
