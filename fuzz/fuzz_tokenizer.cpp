// libFuzzer target for the tokenizer.json loader and the encode/decode pipeline. Input: the text of a
// tokenizer.json, optionally followed by a NUL byte and a text to encode (a fixed mixed-script sample
// otherwise). A TokenizerError is the only acceptable failure; a crash, a sanitizer report or any other
// exception escaping is a bug. Seeds: fuzz/corpus/tokenizer/; dictionary: fuzz/tokenizer.dict.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "capture/tokenizer/tokenizer.h"

namespace {
constexpr std::string_view kDefaultText = "Hello w\xC3\xB6rld, it's 2024!  <|endoftext|><s> \xE6\x97\xA5\xE6\x9C\xAC \r\n\tx\xF0\x9F\x98\x80";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using headscope::tokenizer::TokenizerError;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t separator = input.find('\0');
  const std::string_view json_text = input.substr(0, separator);
  const std::string_view text = separator == std::string_view::npos ? kDefaultText : input.substr(separator + 1);
  std::unique_ptr<headscope::tokenizer::Tokenizer> tokenizer;
  try {
    tokenizer = headscope::tokenizer::load_tokenizer_json_text(json_text, "fuzz-input.json");
  } catch (const TokenizerError&) {
    return 0;
  }
  try {
    const auto ids = tokenizer->encode(text, true);
    (void)tokenizer->decode(ids);
    for (const std::int32_t id : ids) (void)tokenizer->token_text(id);
    (void)tokenizer->vocab_size();
  } catch (const TokenizerError&) {
    // e.g. a post-processor id that names no token, or a regex hitting its match limit
  }
  return 0;
}
