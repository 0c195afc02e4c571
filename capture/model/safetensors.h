// Reader for the safetensors format (8-byte little-endian header length, a JSON header, then raw
// little-endian tensor bytes). The file is memory-mapped; the header is validated completely before
// any tensor is handed out: length within the file, JSON object, known dtype, shape x dtype size equal
// to the byte span, spans inside the data area and not overlapping. Torch-free (used by the fuzz
// target and by the trainer); capture/model/weights_torch.h turns entries into tensors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "capture/model/model_error.h"

namespace headscope::model {

// Element types a safetensors header may name (spelled as in the format: "F32", "BF16", ...).
enum class StDtype { bool_, u8, i8, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64, f8_e4m3, f8_e5m2 };

const char* st_dtype_name(StDtype dtype);
std::size_t st_dtype_size(StDtype dtype);
bool parse_st_dtype(const std::string& name, StDtype* out);  // false when unknown

struct StTensorInfo {
  std::string name;
  StDtype dtype = StDtype::f32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offset inside the data area (after the header)
  std::uint64_t end = 0;    // one past the last byte
  std::int64_t element_count() const;
};

// Parsed and validated header. `origin` names the file in error messages.
struct StHeader {
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values only)
  std::vector<StTensorInfo> tensors;            // in header order
  std::uint64_t data_offset = 0;                // 8 + header length
};

// Validates a whole file image (header and spans against its size). Throws ModelError naming
// `origin` and the offending tensor or field. Safe on arbitrary bytes (fuzzed).
StHeader parse_safetensors_header(const std::uint8_t* bytes, std::size_t size, const std::string& origin);

// A memory-mapped, validated safetensors file. Move-only; unmaps on destruction.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const std::vector<StTensorInfo>& tensors() const { return header_.tensors; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws ModelError ("missing tensor NAME in FILE") when absent.
  const StTensorInfo& info(const std::string& name) const;
  // The tensor's bytes inside the mapping (not necessarily aligned).
  const std::uint8_t* data(const StTensorInfo& info) const { return bytes_ + header_.data_offset + info.begin; }
  // Drops the mapping's resident pages of a tensor that was copied out, so that loading a checkpoint
  // holds each weight once (the copy) rather than twice (the copy and the file's pages). A later data()
  // reads the file again.
  void release(const StTensorInfo& info) const noexcept;

 private:
  void unmap() noexcept;
  std::filesystem::path path_;
  const std::uint8_t* bytes_ = nullptr;
  std::size_t size_ = 0;
  StHeader header_;
  std::map<std::string, std::size_t> index_;  // name -> position in header_.tensors
};

// Drops the resident pages wholly inside [begin, begin + length) of a read-only file mapping (a page
// shared with a neighbour at either end is kept); reading them again reads the file. Used by the
// checkpoint readers once a tensor has been copied out.
void release_mapped_range(const std::uint8_t* begin, std::size_t length) noexcept;

}  // namespace headscope::model
