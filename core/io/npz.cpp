// .npz reading and writing (see npz.h): the zip central directory (with zip64 records), local headers,
// stored and deflated members through zlib's raw inflate, CRC-32 checks.
#include "core/io/npz.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/io/import.h"

namespace headscope::io {

namespace {

constexpr std::uint32_t kLocalSignature = 0x04034b50, kCentralSignature = 0x02014b50, kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50, kZip64LocatorSignature = 0x07064b50;
constexpr std::uint64_t kDeflateMaxRatio = 1032;  // deflate cannot expand data further than this

std::uint64_t le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string strip_npy(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0 ? name.substr(0, name.size() - 4) : name;
}

}  // namespace

NpzFile::NpzFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw ImportError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::fseek(file_, 0, SEEK_END);
  size_ = static_cast<std::uint64_t>(std::ftell(file_));
  read_directory();
}

NpzFile::NpzFile(const std::string& name, std::vector<unsigned char> bytes)
    : path_(name), memory_(std::move(bytes)), size_(memory_.size()) {
  read_directory();
}

NpzFile::~NpzFile() {
  if (file_) std::fclose(file_);
}

void NpzFile::fail(std::uint64_t offset, const std::string& what) const {
  throw ImportError(path_ + ": byte " + std::to_string(offset) + ": " + what);
}

std::vector<unsigned char> NpzFile::read_at(std::uint64_t offset, std::uint64_t size, const std::string& what) const {
  if (offset > size_ || size > size_ - offset)
    fail(offset, what + " runs past the end of the file (" + std::to_string(size) + " bytes wanted, file is " +
                     std::to_string(size_) + " bytes)");
  std::vector<unsigned char> out(size);
  if (!file_) {
    std::copy_n(memory_.begin() + static_cast<std::ptrdiff_t>(offset), size, out.begin());
  } else if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0 || std::fread(out.data(), 1, size, file_) != size) {
    fail(offset, "cannot read " + what);
  }
  return out;
}

void NpzFile::read_directory() {
  if (size_ < 22) fail(0, "not an .npz (zip) archive: too short for the end-of-central-directory record");
  // The end record sits in the last 22 + 65535 (comment) bytes.
  const std::uint64_t tail_size = std::min<std::uint64_t>(size_, 22 + 65535);
  const auto tail = read_at(size_ - tail_size, tail_size, "the archive's tail");
  std::int64_t end_at = -1;
  for (std::int64_t i = static_cast<std::int64_t>(tail_size) - 22; i >= 0; --i)
    if (le(&tail[static_cast<std::size_t>(i)], 4) == kEndSignature) { end_at = i; break; }
  if (end_at < 0) fail(size_ - tail_size, "not an .npz (zip) archive: no end-of-central-directory record");
  const unsigned char* end = &tail[static_cast<std::size_t>(end_at)];
  const std::uint64_t end_offset = size_ - tail_size + static_cast<std::uint64_t>(end_at);
  std::uint64_t count = le(end + 10, 2), directory_size = le(end + 12, 4), directory_offset = le(end + 16, 4);
  if (count == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff) {  // zip64
    if (end_offset < 20) fail(end_offset, "zip64 archive without its locator");
    const auto locator = read_at(end_offset - 20, 20, "the zip64 locator");
    if (le(locator.data(), 4) != kZip64LocatorSignature) fail(end_offset - 20, "expected the zip64 end-of-central-directory locator");
    const std::uint64_t record_offset = le(locator.data() + 8, 8);
    const auto record = read_at(record_offset, 56, "the zip64 end-of-central-directory record");
    if (le(record.data(), 4) != kZip64EndSignature) fail(record_offset, "expected the zip64 end-of-central-directory record");
    count = le(record.data() + 32, 8);
    directory_size = le(record.data() + 40, 8);
    directory_offset = le(record.data() + 48, 8);
  }
  if (count > size_ / 46) fail(end_offset, "the archive claims " + std::to_string(count) + " members, more than fit in it");
  const auto directory = read_at(directory_offset, directory_size, "the central directory");
  std::size_t p = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = directory_offset + p;
    if (p + 46 > directory.size() || le(&directory[p], 4) != kCentralSignature)
      fail(at, "expected central directory entry " + std::to_string(i));
    const unsigned char* h = &directory[p];
    Entry e;
    const std::uint64_t flags = le(h + 8, 2);
    e.method = static_cast<std::uint16_t>(le(h + 10, 2));
    e.crc = static_cast<std::uint32_t>(le(h + 16, 4));
    e.compressed = le(h + 20, 4);
    e.uncompressed = le(h + 24, 4);
    const std::size_t name_length = le(h + 28, 2), extra_length = le(h + 30, 2), comment_length = le(h + 32, 2);
    e.local_header = le(h + 42, 4);
    if (p + 46 + name_length + extra_length + comment_length > directory.size())
      fail(at, "central directory entry " + std::to_string(i) + " runs past the directory");
    e.name.assign(reinterpret_cast<const char*>(h + 46), name_length);
    // zip64 extra field: the 64-bit values of whichever fields are 0xffffffff, in this order.
    const unsigned char* extra = h + 46 + name_length;
    for (std::size_t x = 0; x + 4 <= extra_length;) {
      const std::uint64_t id = le(extra + x, 2), length = le(extra + x + 2, 2);
      if (x + 4 + length > extra_length) break;
      if (id == 0x0001) {
        std::size_t q = x + 4;
        auto take = [&](std::uint64_t& field) {
          if (field == 0xffffffff && q + 8 <= x + 4 + length) { field = le(extra + q, 8); q += 8; }
        };
        take(e.uncompressed);
        take(e.compressed);
        take(e.local_header);
      }
      x += 4 + length;
    }
    if (flags & 1) fail(at, "member '" + e.name + "' is encrypted");
    if (e.method != 0 && e.method != 8)
      fail(at, "member '" + e.name + "' uses compression method " + std::to_string(e.method) + " (expected 0 stored or 8 deflate)");
    entries_.push_back(e);
    p += 46 + name_length + extra_length + comment_length;
  }
}

std::vector<std::string> NpzFile::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(strip_npy(e.name));
  return out;
}

bool NpzFile::contains(const std::string& name) const {
  for (const auto& e : entries_)
    if (strip_npy(e.name) == strip_npy(name)) return true;
  return false;
}

const NpzFile::Entry& NpzFile::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (strip_npy(e.name) == strip_npy(name)) return e;
  std::string list;
  for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
  throw ImportError(path_ + ": no member '" + strip_npy(name) + "' (members: " + (list.empty() ? "none" : list) + ")");
}

NpyArray NpzFile::array(const std::string& name) const {
  const Entry& e = find(name);
  const std::string member = path_ + " member '" + e.name + "'";
  const auto local = read_at(e.local_header, 30, "the local header of '" + e.name + "'");
  if (le(local.data(), 4) != kLocalSignature) fail(e.local_header, "expected the local header of member '" + e.name + "'");
  const std::uint64_t data_offset = e.local_header + 30 + le(local.data() + 26, 2) + le(local.data() + 28, 2);
  const auto packed = read_at(data_offset, e.compressed, "the data of member '" + e.name + "'");
  std::vector<unsigned char> bytes;
  if (e.method == 0) {
    if (e.compressed != e.uncompressed) fail(data_offset, "stored member '" + e.name + "' has different packed and unpacked sizes");
    bytes = packed;
  } else {
    if (e.uncompressed / kDeflateMaxRatio > e.compressed + 1)
      fail(data_offset, "member '" + e.name + "' claims an impossible deflate ratio (" + std::to_string(e.uncompressed) +
                            " bytes from " + std::to_string(e.compressed) + ")");
    bytes.resize(e.uncompressed);
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) fail(data_offset, "zlib could not start inflating");
    stream.next_in = const_cast<Bytef*>(packed.data());
    stream.avail_in = static_cast<uInt>(packed.size());
    stream.next_out = bytes.data();
    stream.avail_out = static_cast<uInt>(bytes.size());
    const int status = inflate(&stream, Z_FINISH);
    const std::uint64_t produced = stream.total_out, consumed = stream.total_in;
    inflateEnd(&stream);
    if (status != Z_STREAM_END || produced != e.uncompressed)
      fail(data_offset + consumed, "member '" + e.name + "': corrupt deflate data (" + std::to_string(produced) + " of " +
                                       std::to_string(e.uncompressed) + " bytes inflated)");
  }
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size()));
  if (crc != e.crc) fail(data_offset, "member '" + e.name + "': CRC-32 mismatch (the archive is damaged)");
  return parse_npy(member, bytes);
}

std::vector<std::int32_t> NpzFile::int32_matrix(const std::string& name, std::uint64_t& rows, std::uint64_t& columns) const {
  const NpyArray a = array(name);
  if (a.header.shape.size() != 2)
    throw ImportError(path_ + " member '" + strip_npy(name) + "': expected a 2-D [n, seq] array, found " +
                      std::to_string(a.header.shape.size()) + " dimensions");
  rows = a.header.shape[0];
  columns = a.header.shape[1];
  return a.to_int32(path_ + " member '" + strip_npy(name) + "'");
}

// Writing -----------------------------------------------------------------------------------------------
namespace {

void put(std::vector<unsigned char>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>(value >> (8 * i)));
}

std::vector<unsigned char> deflate_raw(const std::vector<unsigned char>& in, const std::string& path) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw ImportError(path + ": zlib deflate failed");
  std::vector<unsigned char> out(deflateBound(&stream, in.size()));
  stream.next_in = const_cast<Bytef*>(in.data());
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (status != Z_STREAM_END) throw ImportError(path + ": zlib deflate failed");
  return out;
}

}  // namespace

void write_npz(const std::string& path, const std::vector<std::pair<std::string, std::vector<unsigned char>>>& members,
               bool deflate) {
  std::vector<unsigned char> out, directory;
  for (const auto& member : members) {
    const std::string& name = member.first;
    const std::vector<unsigned char>& npy = member.second;  // (a structured binding cannot be captured in C++17)
    const std::string file_name = name + ".npy";
    const std::uint32_t crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), npy.data(), static_cast<uInt>(npy.size())));
    const auto data = deflate ? deflate_raw(npy, path) : npy;
    const std::uint64_t local_offset = out.size();
    auto header = [&](std::vector<unsigned char>& h, bool central) {
      put(h, central ? kCentralSignature : kLocalSignature, 4);
      if (central) put(h, 20, 2);  // version made by
      put(h, 20, 2);               // version needed
      put(h, 0, 2);                // flags
      put(h, deflate ? 8 : 0, 2);
      put(h, 0, 2);                // time
      put(h, 0x21, 2);             // date: 1980-01-01
      put(h, crc, 4);
      put(h, data.size(), 4);
      put(h, npy.size(), 4);
      put(h, file_name.size(), 2);
      put(h, 0, 2);  // extra
      if (central) {
        put(h, 0, 2);  // comment
        put(h, 0, 2);  // disk
        put(h, 0, 2);  // internal attributes
        put(h, 0, 4);  // external attributes
        put(h, local_offset, 4);
      }
      h.insert(h.end(), file_name.begin(), file_name.end());
    };
    header(out, false);
    out.insert(out.end(), data.begin(), data.end());
    header(directory, true);
  }
  const std::uint64_t directory_offset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  put(out, kEndSignature, 4);
  put(out, 0, 4);
  put(out, members.size(), 2);
  put(out, members.size(), 2);
  put(out, directory.size(), 4);
  put(out, directory_offset, 4);
  put(out, 0, 2);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw ImportError(path + ": cannot create (" + std::strerror(errno) + ")");
  const bool ok = std::fwrite(out.data(), 1, out.size(), file) == out.size();
  if (std::fclose(file) != 0 || !ok) throw ImportError(path + ": write failed");
}

}  // namespace headscope::io
