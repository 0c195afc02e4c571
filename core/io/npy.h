// NumPy .npy files (format versions 1-3): header parsing with an error for every way a file can be
// wrong — bad magic, bad header dict, unsupported dtype, big-endian, Fortran order, shape × itemsize not
// matching the data — each naming the file and byte offset; reading elements as float or int32 without
// loading the whole file; and writing small arrays (sample files, tests, .npz members).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace headscope::io {

enum class NpyType { float16, float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64, boolean };

struct NpyHeader {
  std::string descr;                // as written, e.g. "<f2"
  NpyType type = NpyType::float32;
  std::size_t item_size = 4;
  std::vector<std::uint64_t> shape;  // C order
  std::uint64_t data_offset = 0;     // bytes before the array data
  std::uint64_t element_count() const;
};

// Parses the header at the start of `bytes` (at least the whole header; `total_size` is the size of the
// whole file or member, checked against shape × itemsize). `name` is used in errors.
NpyHeader parse_npy_header(const std::string& name, const unsigned char* bytes, std::size_t available,
                           std::uint64_t total_size);

const char* npy_type_name(NpyType type);  // "float16", ...

// Converts `count` elements of raw little-endian data of `type` into floats / int32 (integers wider
// than int32 must fit, else ImportError naming `name`).
void npy_convert(NpyType type, const unsigned char* raw, std::uint64_t count, float* out);
void npy_convert(NpyType type, const unsigned char* raw, std::uint64_t count, std::int32_t* out, const std::string& name);

// An open .npy file; elements are read on demand.
class NpyFile {
 public:
  explicit NpyFile(const std::string& path);  // reads and checks the header; throws ImportError
  ~NpyFile();
  NpyFile(const NpyFile&) = delete;
  NpyFile& operator=(const NpyFile&) = delete;

  const NpyHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  // Elements [first, first + count) in C order, converted to float.
  void read_floats(std::uint64_t first, std::uint64_t count, float* out);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  NpyHeader header_;
  std::vector<unsigned char> raw_;
};

// A whole .npy held in memory (an .npz member).
struct NpyArray {
  NpyHeader header;
  std::vector<unsigned char> data;  // raw little-endian elements
  std::vector<float> to_floats() const;
  std::vector<std::int32_t> to_int32(const std::string& name) const;
};
NpyArray parse_npy(const std::string& name, const std::vector<unsigned char>& bytes);

// The bytes of a version-1 .npy holding `data` (raw little-endian elements of `descr`, e.g. "<f2").
std::vector<unsigned char> npy_bytes(const std::string& descr, const std::vector<std::uint64_t>& shape,
                                     const void* data, std::size_t data_bytes);
void write_npy(const std::string& path, const std::string& descr, const std::vector<std::uint64_t>& shape,
               const void* data, std::size_t data_bytes);

}  // namespace headscope::io
