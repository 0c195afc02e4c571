// Writer for safetensors files: tensors of F32/F16/BF16 (and I64/I32 for token arrays) from raw
// little-endian bytes, plus string metadata. Used by the trainer to save checkpoints, by the benchmark
// to save its random model, and by tests. Torch-free; tensors are written in the order added, with
// contiguous offsets and the header padded with spaces to a multiple of 8 bytes (as HF does).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "capture/model/safetensors.h"

namespace headscope::model {

class SafetensorsWriter {
 public:
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // Copies `byte_count` bytes; throws ModelError when they disagree with dtype x shape or the name repeats.
  void add(const std::string& name, StDtype dtype, const std::vector<std::int64_t>& shape, const void* bytes,
           std::size_t byte_count);
  void add_f32(const std::string& name, const std::vector<std::int64_t>& shape, const std::vector<float>& values);
  // Writes to `path` through a temporary file and a rename; throws ModelError on I/O failure.
  void write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    StDtype dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  std::map<std::string, std::string> metadata_;
  std::vector<Entry> entries_;
};

// float <-> half / bfloat16 bit conversions (round to nearest even), for writers of reduced precision.
std::uint16_t float_to_bf16_bits(float value);
std::uint16_t float_to_f16_bits(float value);

}  // namespace headscope::model
