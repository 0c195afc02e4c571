// The `pre_tokenizer` of a tokenizer.json: splits normalized text into words that the BPE model encodes
// one by one. Supports Split (regex or literal, every split behaviour, invert), ByteLevel (GPT-2's regex
// when use_regex, prefix space), Metaspace, Digits, Whitespace, WhitespaceSplit and Sequence. The regex
// patterns are the file's own, compiled with PCRE2.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace headscope::tokenizer {

class SpecReader;

// A piece of text on its way to becoming a word; `at_text_start` is true while the piece begins at the
// very start of the input (Metaspace's prepend_scheme "first" needs it).
struct PreToken {
  std::string text;
  bool at_text_start = false;
};

class PreTokenizer {
 public:
  // `spec` is the pre_tokenizer member (null: the whole text is one word). Throws TokenizerError.
  PreTokenizer(const nlohmann::json& spec, const SpecReader& reader);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Words of one normalized segment (valid UTF-8), in order, none empty.
  std::vector<std::string> split(std::string_view segment, bool at_text_start) const;

  // True when a ByteLevel step is present: words must go through the byte-level alphabet before the model.
  bool byte_level() const { return byte_level_; }

  struct Step;

 private:
  std::vector<std::unique_ptr<Step>> steps_;
  bool byte_level_ = false;
};

}  // namespace headscope::tokenizer
