// The byte ↔ stand-in character tables of byte-level BPE, built once on first use.
#include "capture/tokenizer/byte_level.h"

#include <array>

#include "capture/tokenizer/text_utf8.h"

namespace headscope::tokenizer::byte_level {

namespace {

struct Alphabet {
  std::array<std::string, 256> char_of_byte;  // [byte] → stand-in character, UTF-8
  std::array<int, 324> byte_of_char;          // [code point] → byte, or -1; stand-ins are all below U+0144

  Alphabet() {
    byte_of_char.fill(-1);
    const auto printable = [](int byte) {
      return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
    };
    int next_extra = 256;
    for (int byte = 0; byte < 256; ++byte) {
      const int code_point = printable(byte) ? byte : next_extra++;
      utf8::append_code_point(char_of_byte[byte], static_cast<char32_t>(code_point));
      byte_of_char[code_point] = byte;
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet table;
  return table;
}

}  // namespace

std::string bytes_to_chars(std::string_view bytes) {
  const Alphabet& table = alphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char byte : bytes) out += table.char_of_byte[static_cast<unsigned char>(byte)];
  return out;
}

bool chars_to_bytes(std::string_view chars, std::string& bytes) {
  const Alphabet& table = alphabet();
  bytes.clear();
  for (std::size_t pos = 0; pos < chars.size();) {
    if (utf8::valid_sequence_length(chars, pos) == 0) return false;
    const char32_t code_point = utf8::next_code_point(chars, pos);
    if (code_point >= table.byte_of_char.size() || table.byte_of_char[code_point] < 0) return false;
    bytes.push_back(static_cast<char>(table.byte_of_char[code_point]));
  }
  return true;
}

}  // namespace headscope::tokenizer::byte_level
