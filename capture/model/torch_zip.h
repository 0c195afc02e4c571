// Reader of the zip container that torch.save writes (since PyTorch 1.6): the central directory is read
// by hand (no zip library), every entry must be stored uncompressed (torch writes them so), and every
// offset and length is checked against the file size before use, so arbitrary bytes either list entries
// whose data spans lie inside the image or raise a ModelError naming the file. Torch-free (fuzzed).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "capture/model/model_error.h"

namespace headscope::model {

struct ZipEntry {
  std::string name;
  std::uint64_t begin = 0;  // byte offset of the entry's data inside the file image
  std::uint64_t size = 0;   // data length in bytes (stored: compressed size == uncompressed size)
};

// Entries by name. Throws ModelError naming `origin` for a truncated or inconsistent directory, a
// compressed or encrypted entry, a duplicate name or a data span outside the image.
std::map<std::string, ZipEntry> read_zip_directory(const std::uint8_t* bytes, std::size_t size,
                                                   const std::string& origin);

}  // namespace headscope::model
