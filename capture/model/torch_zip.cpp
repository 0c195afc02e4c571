// Zip central-directory reader for torch.save archives (see torch_zip.h): end-of-central-directory
// record (and its ZIP64 form for archives over 4 GiB), central entries, local headers for the data start.
#include "capture/model/torch_zip.h"

#include <algorithm>

namespace headscope::model {
namespace {

constexpr std::uint32_t kEndSignature = 0x06054b50, kEnd64Signature = 0x06064b50, kLocator64Signature = 0x07064b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50, kLocalSignature = 0x04034b50;
constexpr std::size_t kEndSize = 22, kLocator64Size = 20, kEnd64Size = 56, kCentralSize = 46, kLocalSize = 30;
constexpr std::uint64_t kMaxEntries = 1u << 20;  // far above any checkpoint; bounds the directory we build

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw ModelError(origin + ": not a readable torch.save zip archive: " + what);
}

// Little-endian field reads from a span already checked to lie inside the image.
std::uint64_t read_le(const std::uint8_t* at, int byte_count) {
  std::uint64_t value = 0;
  for (int i = byte_count - 1; i >= 0; --i) value = (value << 8) | at[i];
  return value;
}

struct Image {
  const std::uint8_t* bytes;
  std::size_t size;
  const std::string& origin;
  // Throws unless [offset, offset + length) lies inside the image.
  const std::uint8_t* span(std::uint64_t offset, std::uint64_t length, const char* what) const {
    if (offset > size || length > size - offset)
      fail(origin, std::string(what) + " at byte " + std::to_string(offset) + " runs past the end of the file (" +
                       std::to_string(size) + " bytes)");
    return bytes + offset;
  }
};

// Values a central entry holds as 0xFFFFFFFF are in its ZIP64 extra field (0x0001), in this order.
void apply_zip64_extra(const Image& image, const std::uint8_t* extra, std::uint64_t extra_length,
                       std::uint64_t* uncompressed, std::uint64_t* compressed, std::uint64_t* local_offset) {
  std::uint64_t at = 0;
  while (at + 4 <= extra_length) {
    const auto id = read_le(extra + at, 2), length = read_le(extra + at + 2, 2);
    if (at + 4 + length > extra_length) fail(image.origin, "an extra field of a central entry runs past its end");
    if (id == 1) {
      std::uint64_t field = at + 4;
      for (std::uint64_t* value : {uncompressed, compressed, local_offset}) {
        if (*value != 0xFFFFFFFFu) continue;
        if (field + 8 > at + 4 + length) fail(image.origin, "a ZIP64 extra field is too short");
        *value = read_le(extra + field, 8);
        field += 8;
      }
      return;
    }
    at += 4 + length;
  }
}

}  // namespace

std::map<std::string, ZipEntry> read_zip_directory(const std::uint8_t* bytes, std::size_t size,
                                                   const std::string& origin) {
  const Image image{bytes, size, origin};
  if (size < kEndSize) fail(origin, "shorter than an end-of-central-directory record (truncated?)");
  // The end record sits in the last 22 + 65535 bytes (after a comment of up to 64 KiB).
  std::size_t end_at = size;
  const std::size_t lowest = size > kEndSize + 65535 ? size - kEndSize - 65535 : 0;
  for (std::size_t at = size - kEndSize + 1; at-- > lowest;)
    if (read_le(bytes + at, 4) == kEndSignature) {
      end_at = at;
      break;
    }
  if (end_at == size) fail(origin, "no end-of-central-directory record (truncated, or not a zip file)");
  const auto* end = bytes + end_at;
  std::uint64_t entry_count = read_le(end + 10, 2), directory_size = read_le(end + 12, 4),
                directory_offset = read_le(end + 16, 4);
  if (end_at >= kLocator64Size && read_le(bytes + end_at - kLocator64Size, 4) == kLocator64Signature) {
    const auto end64_offset = read_le(bytes + end_at - kLocator64Size + 8, 8);
    const auto* end64 = image.span(end64_offset, kEnd64Size, "the ZIP64 end record");
    if (read_le(end64, 4) != kEnd64Signature) fail(origin, "the ZIP64 locator points at no ZIP64 end record");
    entry_count = read_le(end64 + 32, 8);
    directory_size = read_le(end64 + 40, 8);
    directory_offset = read_le(end64 + 48, 8);
  }
  if (entry_count > kMaxEntries) fail(origin, "claims " + std::to_string(entry_count) + " entries");
  const auto* directory = image.span(directory_offset, directory_size, "the central directory");
  std::map<std::string, ZipEntry> entries;
  std::uint64_t at = 0;
  for (std::uint64_t index = 0; index < entry_count; ++index) {
    if (at > directory_size || directory_size - at < kCentralSize) fail(origin, "the central directory is truncated");
    const auto* central = directory + at;
    if (read_le(central, 4) != kCentralSignature) fail(origin, "central entry " + std::to_string(index) + " has a bad signature");
    const auto flags = read_le(central + 8, 2), method = read_le(central + 10, 2);
    std::uint64_t compressed = read_le(central + 20, 4), uncompressed = read_le(central + 24, 4);
    const auto name_length = read_le(central + 28, 2), extra_length = read_le(central + 30, 2),
               comment_length = read_le(central + 32, 2);
    std::uint64_t local_offset = read_le(central + 42, 4);
    const auto entry_length = kCentralSize + name_length + extra_length + comment_length;
    if (directory_size - at < entry_length) fail(origin, "central entry " + std::to_string(index) + " is truncated");
    std::string name(reinterpret_cast<const char*>(central + kCentralSize), name_length);
    apply_zip64_extra(image, central + kCentralSize + name_length, extra_length, &uncompressed, &compressed,
                      &local_offset);
    if (flags & 1u) fail(origin, "entry '" + name + "' is encrypted");
    if (method != 0)
      fail(origin, "entry '" + name + "' is compressed (method " + std::to_string(method) +
                       "); torch.save stores entries uncompressed and only that is read");
    if (compressed != uncompressed) fail(origin, "stored entry '" + name + "' has differing sizes");
    const auto* local = image.span(local_offset, kLocalSize, "a local header");
    if (read_le(local, 4) != kLocalSignature) fail(origin, "entry '" + name + "' points at no local header");
    const auto data_begin = local_offset + kLocalSize + read_le(local + 26, 2) + read_le(local + 28, 2);
    image.span(data_begin, uncompressed, ("the data of entry '" + name + "'").c_str());
    if (!entries.emplace(name, ZipEntry{name, data_begin, uncompressed}).second)
      fail(origin, "entry '" + name + "' appears twice");
    at += entry_length;
  }
  return entries;
}

}  // namespace headscope::model
