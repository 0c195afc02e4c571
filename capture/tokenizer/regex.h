// A compiled PCRE2 pattern (UTF + Unicode properties, as HuggingFace's Oniguruma patterns expect) that
// lists the byte spans it matches in a text. Used by the Split/ByteLevel pre-tokenizers and the Replace
// normaliser. Safe to share between threads; matching is bounded so a hostile pattern cannot run forever.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace headscope::tokenizer {

struct ByteSpan {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last byte
};

class Regex {
 public:
  // `literal`: the pattern is a plain string, not a regex. `source` prefixes error messages (the file).
  // Throws TokenizerError when the pattern does not compile.
  Regex(const std::string& pattern, bool literal, const std::string& source);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-empty, non-overlapping matches in `text` (valid UTF-8), left to right.
  // Throws TokenizerError when matching hits the engine's limits.
  std::vector<ByteSpan> find_all(std::string_view text) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace headscope::tokenizer
