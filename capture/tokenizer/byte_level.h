// GPT-2's byte-level alphabet: every byte 0..255 stands for one printable Unicode character (printable
// Latin-1 bytes for themselves, the others for U+0100 onwards, so the space 0x20 becomes `Ġ` U+0120).
// Byte-level BPE vocabularies are written in these stand-in characters.
#pragma once
#include <string>
#include <string_view>

namespace headscope::tokenizer::byte_level {

// Raw bytes → their stand-in characters (UTF-8).
std::string bytes_to_chars(std::string_view bytes);

// Stand-in characters → raw bytes. Returns false (and leaves `bytes` unspecified) when `chars` holds a
// character outside the alphabet, as an added token like `<|endoftext|>` never does but a malformed one may.
bool chars_to_bytes(std::string_view chars, std::string& bytes);

}  // namespace headscope::tokenizer::byte_level
