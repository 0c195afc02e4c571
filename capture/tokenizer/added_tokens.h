// Added tokens of a tokenizer.json (`added_tokens`: <|endoftext|>, <s>, <|im_start|>, ...). They are cut out
// of the text before the model sees it, leftmost match first and the longest among those starting at the
// same place, honouring lstrip/rstrip (swallow neighbouring whitespace) and single_word (only between
// non-word characters). Tokens with normalized=false are matched on the raw text, the others after
// normalisation, as HuggingFace tokenizers does.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace headscope::tokenizer {

struct AddedToken {
  std::int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool single_word = false;
};

// A run of plain text, or one matched added token (then `text` is empty).
struct TextSegment {
  std::string_view text;
  std::optional<std::int32_t> token_id;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  bool empty() const { return by_first_byte_.empty(); }

  // Plain segments may be empty only when the text is; token segments carry the id.
  std::vector<TextSegment> split(std::string_view text) const;

 private:
  struct Candidate {
    std::string content;
    std::int32_t id;
    bool lstrip, rstrip, single_word;
  };
  std::unordered_map<unsigned char, std::vector<Candidate>> by_first_byte_;  // longest first
};

}  // namespace headscope::tokenizer
