// .npy reading and writing (see npy.h). The header is a Python dict literal; parse_npy_header reads the
// small subset NumPy writes ('descr' string, 'fortran_order' bool, 'shape' tuple of ints) by hand.
#include "core/io/npy.h"

#include <cerrno>
#include <cstring>
#include <limits>

#include "core/io/import.h"
#include "core/util/half.h"

namespace headscope::io {

namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

struct TypeInfo {
  const char* code;  // descr without the byte-order character
  NpyType type;
  std::size_t size;
  const char* name;
};
constexpr TypeInfo kTypes[] = {
    {"f2", NpyType::float16, 2, "float16"}, {"f4", NpyType::float32, 4, "float32"}, {"f8", NpyType::float64, 8, "float64"},
    {"i1", NpyType::int8, 1, "int8"},       {"u1", NpyType::uint8, 1, "uint8"},     {"i2", NpyType::int16, 2, "int16"},
    {"u2", NpyType::uint16, 2, "uint16"},   {"i4", NpyType::int32, 4, "int32"},     {"u4", NpyType::uint32, 4, "uint32"},
    {"i8", NpyType::int64, 8, "int64"},     {"u8", NpyType::uint64, 8, "uint64"},   {"b1", NpyType::boolean, 1, "bool"},
};

// The header dict, parsed from `text` that starts at byte `base` of the file.
class HeaderParser {
 public:
  HeaderParser(const std::string& name, const char* text, std::size_t size, std::uint64_t base)
      : name_(name), text_(text), size_(size), base_(base) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ImportError(name_ + ": byte " + std::to_string(base_ + pos_) + ": bad .npy header: " + what);
  }
  [[noreturn]] void fail_at(std::size_t position, const std::string& what) {
    pos_ = position;
    fail(what);
  }
  void skip_space() {
    while (pos_ < size_ && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r')) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < size_ && text_[pos_] == c) { ++pos_; return true; }
    return false;
  }
  void expect(char c, const char* what) {
    if (!accept(c)) fail(std::string("expected ") + what);
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= size_ || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a quoted string");
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < size_ && text_[pos_] != quote) out += text_[pos_++];
    if (pos_ >= size_) fail("unterminated string");
    ++pos_;
    return out;
  }
  std::uint64_t integer() {
    skip_space();
    const std::size_t start = pos_;
    std::uint64_t value = 0;
    while (pos_ < size_ && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const unsigned digit = static_cast<unsigned>(text_[pos_++] - '0');
      if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) { pos_ = start; fail("dimension too large"); }
      value = value * 10 + digit;
    }
    if (pos_ == start) fail("expected a non-negative integer dimension");
    if (pos_ < size_ && text_[pos_] == 'L') ++pos_;  // Python 2 long
    return value;
  }
  bool boolean() {
    skip_space();
    for (const char* word : {"True", "False"}) {
      const std::size_t n = std::strlen(word);
      if (size_ - pos_ >= n && std::memcmp(text_ + pos_, word, n) == 0) { pos_ += n; return word[0] == 'T'; }
    }
    fail("expected True or False");
  }
  std::vector<std::uint64_t> tuple() {
    expect('(', "'(' to open the shape tuple");
    std::vector<std::uint64_t> dims;
    while (!accept(')')) {
      dims.push_back(integer());
      if (!accept(',')) { expect(')', "',' or ')' in the shape tuple"); break; }
    }
    return dims;
  }
  std::size_t position() const { return pos_; }

 private:
  const std::string& name_;
  const char* text_;
  std::size_t size_;
  std::uint64_t base_;
  std::size_t pos_ = 0;
};

}  // namespace

std::uint64_t NpyHeader::element_count() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

const char* npy_type_name(NpyType type) {
  for (const auto& t : kTypes)
    if (t.type == type) return t.name;
  return "?";
}

NpyHeader parse_npy_header(const std::string& name, const unsigned char* bytes, std::size_t available,
                           std::uint64_t total_size) {
  auto fail_at = [&](std::uint64_t offset, const std::string& what) -> void {
    throw ImportError(name + ": byte " + std::to_string(offset) + ": " + what);
  };
  if (available < 10 || std::memcmp(bytes, kMagic, 6) != 0)
    fail_at(0, "not a .npy file: expected the magic \\x93NUMPY" + std::string(available < 10 ? " and a header (file too short)" : ""));
  const unsigned major = bytes[6];
  std::uint64_t header_length = 0, text_start = 0;
  if (major == 1) {
    header_length = bytes[8] | (bytes[9] << 8);
    text_start = 10;
  } else if (major == 2 || major == 3) {
    if (available < 12) fail_at(8, ".npy version 2 header length cut short");
    header_length = bytes[8] | (bytes[9] << 8) | (static_cast<std::uint64_t>(bytes[10]) << 16) | (static_cast<std::uint64_t>(bytes[11]) << 24);
    text_start = 12;
  } else {
    fail_at(6, "unsupported .npy format version " + std::to_string(major) + " (expected 1, 2 or 3)");
  }
  if (text_start + header_length > available)
    fail_at(8, "the header claims " + std::to_string(header_length) + " bytes but the file has only " +
                   std::to_string(available - text_start) + " after the preamble");

  NpyHeader header;
  header.data_offset = text_start + header_length;
  HeaderParser parser(name, reinterpret_cast<const char*>(bytes + text_start), header_length, text_start);
  bool have_descr = false, have_order = false, have_shape = false, fortran = false;
  parser.expect('{', "'{' to open the header dict");
  while (!parser.accept('}')) {
    parser.skip_space();
    const std::size_t key_start = parser.position();
    const std::string key = parser.string_literal();
    parser.expect(':', "':' after a key");
    if (key == "descr") { header.descr = parser.string_literal(); have_descr = true; }
    else if (key == "fortran_order") { fortran = parser.boolean(); have_order = true; }
    else if (key == "shape") { header.shape = parser.tuple(); have_shape = true; }
    else parser.fail_at(key_start, "unexpected key '" + key + "' (expected descr, fortran_order, shape)");
    if (!parser.accept(',')) { parser.expect('}', "',' or '}' in the header dict"); break; }
  }
  if (!have_descr || !have_order || !have_shape)
    parser.fail(std::string("the dict lacks '") + (!have_descr ? "descr" : !have_order ? "fortran_order" : "shape") + "'");

  const std::string& d = header.descr;
  if (d.size() != 3) fail_at(text_start, "unsupported dtype '" + d + "' (expected a plain numeric type such as <f2, <f4, <i4)");
  if (d[0] == '>' && d[2] != '1')
    fail_at(text_start, "big-endian dtype '" + d + "': convert it with arr.astype(arr.dtype.newbyteorder('<'))");
  if (d[0] != '<' && d[0] != '|' && d[0] != '=' && d[0] != '>')
    fail_at(text_start, "unsupported dtype '" + d + "' (bad byte-order character)");
  bool known = false;
  for (const auto& t : kTypes)
    if (d.compare(1, 2, t.code) == 0) { header.type = t.type; header.item_size = t.size; known = true; }
  if (!known) fail_at(text_start, "unsupported dtype '" + d + "' (expected float16/32/64, (u)int8-64 or bool)");
  if (fortran) fail_at(text_start, "Fortran-order array: save it in C order (np.ascontiguousarray) and import again");

  std::uint64_t count = 1;
  for (auto dim : header.shape) {
    if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim / header.item_size)
      fail_at(text_start, "shape too large");
    count *= dim;
  }
  const std::uint64_t data_bytes = total_size >= header.data_offset ? total_size - header.data_offset : 0;
  if (count * header.item_size != data_bytes) {
    std::string shape_text = "(";
    for (std::size_t i = 0; i < header.shape.size(); ++i) shape_text += (i ? ", " : "") + std::to_string(header.shape[i]);
    fail_at(header.data_offset, "shape " + shape_text + ") x " + std::to_string(header.item_size) + " bytes = " +
                                    std::to_string(count * header.item_size) + " bytes of data expected, found " +
                                    std::to_string(data_bytes));
  }
  return header;
}

void npy_convert(NpyType type, const unsigned char* raw, std::uint64_t count, float* out) {
  for (std::uint64_t i = 0; i < count; ++i) {
    switch (type) {
      case NpyType::float16: { std::uint16_t v; std::memcpy(&v, raw + 2 * i, 2); out[i] = half_to_float(v); break; }
      case NpyType::float32: std::memcpy(out + i, raw + 4 * i, 4); break;
      case NpyType::float64: { double v; std::memcpy(&v, raw + 8 * i, 8); out[i] = static_cast<float>(v); break; }
      case NpyType::int8: out[i] = static_cast<std::int8_t>(raw[i]); break;
      case NpyType::uint8: case NpyType::boolean: out[i] = raw[i]; break;
      case NpyType::int16: { std::int16_t v; std::memcpy(&v, raw + 2 * i, 2); out[i] = v; break; }
      case NpyType::uint16: { std::uint16_t v; std::memcpy(&v, raw + 2 * i, 2); out[i] = v; break; }
      case NpyType::int32: { std::int32_t v; std::memcpy(&v, raw + 4 * i, 4); out[i] = static_cast<float>(v); break; }
      case NpyType::uint32: { std::uint32_t v; std::memcpy(&v, raw + 4 * i, 4); out[i] = static_cast<float>(v); break; }
      case NpyType::int64: { std::int64_t v; std::memcpy(&v, raw + 8 * i, 8); out[i] = static_cast<float>(v); break; }
      case NpyType::uint64: { std::uint64_t v; std::memcpy(&v, raw + 8 * i, 8); out[i] = static_cast<float>(v); break; }
    }
  }
}

void npy_convert(NpyType type, const unsigned char* raw, std::uint64_t count, std::int32_t* out, const std::string& name) {
  for (std::uint64_t i = 0; i < count; ++i) {
    std::int64_t value = 0;
    switch (type) {
      case NpyType::int8: value = static_cast<std::int8_t>(raw[i]); break;
      case NpyType::uint8: case NpyType::boolean: value = raw[i]; break;
      case NpyType::int16: { std::int16_t v; std::memcpy(&v, raw + 2 * i, 2); value = v; break; }
      case NpyType::uint16: { std::uint16_t v; std::memcpy(&v, raw + 2 * i, 2); value = v; break; }
      case NpyType::int32: { std::int32_t v; std::memcpy(&v, raw + 4 * i, 4); value = v; break; }
      case NpyType::uint32: { std::uint32_t v; std::memcpy(&v, raw + 4 * i, 4); value = v; break; }
      case NpyType::int64: { std::memcpy(&value, raw + 8 * i, 8); break; }
      case NpyType::uint64: {
        std::uint64_t v; std::memcpy(&v, raw + 8 * i, 8);
        value = v > static_cast<std::uint64_t>(INT32_MAX) ? std::int64_t{INT32_MAX} + 1 : static_cast<std::int64_t>(v);
        break;
      }
      default:
        throw ImportError(name + ": expected an integer array, found " + npy_type_name(type));
    }
    if (value < INT32_MIN || value > INT32_MAX)
      throw ImportError(name + ": element " + std::to_string(i) + " does not fit in int32");
    out[i] = static_cast<std::int32_t>(value);
  }
}

NpyFile::NpyFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw ImportError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::fseek(file_, 0, SEEK_END);
  const long size = std::ftell(file_);
  std::fseek(file_, 0, SEEK_SET);
  std::vector<unsigned char> head(static_cast<std::size_t>(std::min<long>(size, 1 << 16)));
  const std::size_t got = std::fread(head.data(), 1, head.size(), file_);
  header_ = parse_npy_header(path, head.data(), got, static_cast<std::uint64_t>(size));
}

NpyFile::~NpyFile() {
  if (file_) std::fclose(file_);
}

void NpyFile::read_floats(std::uint64_t first, std::uint64_t count, float* out) {
  const std::uint64_t offset = header_.data_offset + first * header_.item_size;
  raw_.resize(count * header_.item_size);
  if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0 || std::fread(raw_.data(), 1, raw_.size(), file_) != raw_.size())
    throw ImportError(path_ + ": byte " + std::to_string(offset) + ": cannot read " + std::to_string(raw_.size()) + " bytes");
  npy_convert(header_.type, raw_.data(), count, out);
}

std::vector<float> NpyArray::to_floats() const {
  std::vector<float> out(header.element_count());
  npy_convert(header.type, data.data(), out.size(), out.data());
  return out;
}

std::vector<std::int32_t> NpyArray::to_int32(const std::string& name) const {
  std::vector<std::int32_t> out(header.element_count());
  npy_convert(header.type, data.data(), out.size(), out.data(), name);
  return out;
}

NpyArray parse_npy(const std::string& name, const std::vector<unsigned char>& bytes) {
  NpyArray array;
  array.header = parse_npy_header(name, bytes.data(), bytes.size(), bytes.size());
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(array.header.data_offset), bytes.end());
  return array;
}

std::vector<unsigned char> npy_bytes(const std::string& descr, const std::vector<std::uint64_t>& shape,
                                     const void* data, std::size_t data_bytes) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dict += ",";  // Python's one-element tuple
  dict += "), }";
  // Pad with spaces so the data starts at a multiple of 64 bytes, ending the header with '\n'.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::vector<unsigned char> out(kMagic, kMagic + 6);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<unsigned char>(dict.size() & 0xff));
  out.push_back(static_cast<unsigned char>(dict.size() >> 8));
  out.insert(out.end(), dict.begin(), dict.end());
  const auto* raw = static_cast<const unsigned char*>(data);
  out.insert(out.end(), raw, raw + data_bytes);
  return out;
}

void write_npy(const std::string& path, const std::string& descr, const std::vector<std::uint64_t>& shape,
               const void* data, std::size_t data_bytes) {
  const auto bytes = npy_bytes(descr, shape, data, data_bytes);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw ImportError(path + ": cannot create (" + std::strerror(errno) + ")");
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (std::fclose(file) != 0 || !ok) throw ImportError(path + ": write failed");
}

}  // namespace headscope::io
