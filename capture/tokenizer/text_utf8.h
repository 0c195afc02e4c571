// Small UTF-8 helpers for the tokenizers: strict validation (no overlong forms, no surrogates), code point
// iteration, repair of invalid input (U+FFFD), and display of stray bytes as `<0xE2>`.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace headscope::tokenizer::utf8 {

// Byte length of the valid UTF-8 sequence starting at text[pos], or 0 when the bytes there are invalid.
std::size_t valid_sequence_length(std::string_view text, std::size_t pos);

// Decodes the (valid) code point at `pos` and moves `pos` past it.
char32_t next_code_point(std::string_view text, std::size_t& pos);

void append_code_point(std::string& out, char32_t code_point);

bool is_valid(std::string_view text);

// Every invalid byte replaced by U+FFFD; valid text is returned unchanged.
std::string replace_invalid(std::string_view text);

// Valid sequences kept, every invalid byte written as `<0xE2>` (for labels of partial tokens).
std::string escape_invalid(std::string_view bytes);

}  // namespace headscope::tokenizer::utf8
