// safetensors writer: builds the JSON header with nlohmann_json, pads it to 8 bytes and streams the
// tensors after it. Output is readable by our reader and by the Python `safetensors` package.
#include "capture/model/safetensors_writer.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace headscope::model {

void SafetensorsWriter::add(const std::string& name, StDtype dtype, const std::vector<std::int64_t>& shape,
                            const void* bytes, std::size_t byte_count) {
  std::uint64_t expected = st_dtype_size(dtype);
  for (auto extent : shape) {
    if (extent < 0) throw ModelError("safetensors writer: tensor '" + name + "' has a negative extent");
    expected *= static_cast<std::uint64_t>(extent);
  }
  if (expected != byte_count)
    throw ModelError("safetensors writer: tensor '" + name + "' has " + std::to_string(byte_count) +
                     " bytes, its dtype and shape need " + std::to_string(expected));
  if (name == "__metadata__") throw ModelError("safetensors writer: '__metadata__' is reserved");
  for (const auto& entry : entries_)
    if (entry.name == name) throw ModelError("safetensors writer: tensor '" + name + "' added twice");
  Entry entry{name, dtype, shape, {}};
  entry.bytes.resize(byte_count);
  if (byte_count) std::memcpy(entry.bytes.data(), bytes, byte_count);
  entries_.push_back(std::move(entry));
}

void SafetensorsWriter::add_f32(const std::string& name, const std::vector<std::int64_t>& shape,
                                const std::vector<float>& values) {
  add(name, StDtype::f32, shape, values.data(), values.size() * sizeof(float));
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::uint64_t offset = 0;
  for (const auto& entry : entries_) {
    header[entry.name] = {{"dtype", st_dtype_name(entry.dtype)},
                          {"shape", entry.shape},
                          {"data_offsets", {offset, offset + entry.bytes.size()}}};
    offset += entry.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::uint8_t length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i));

  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelError(temporary.string() + ": cannot open for writing");
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& entry : entries_)
      out.write(reinterpret_cast<const char*>(entry.bytes.data()), static_cast<std::streamsize>(entry.bytes.size()));
    out.flush();
    if (!out) throw ModelError(temporary.string() + ": write failed");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) throw ModelError(path.string() + ": cannot rename from " + temporary.string() + ": " + error.message());
}

std::uint16_t float_to_bf16_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value)) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return static_cast<std::uint16_t>(bits >> 16);
}

std::uint16_t float_to_f16_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const std::uint32_t sign = (bits >> 16) & 0x8000;
  const std::uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude > 0x7F800000) return static_cast<std::uint16_t>(sign | 0x7E00);  // NaN
  if (magnitude >= 0x477FF000) return static_cast<std::uint16_t>(sign | 0x7C00);  // overflow -> inf
  if (magnitude < 0x38800000) {                                                     // subnormal or zero
    if (magnitude < 0x33000000) return static_cast<std::uint16_t>(sign);
    const std::uint32_t mantissa = (magnitude & 0x7FFFFF) | 0x800000;
    const int shift = 126 - static_cast<int>(magnitude >> 23);
    const std::uint32_t rounded = (mantissa + (1u << (shift - 1)) - 1 + ((mantissa >> shift) & 1)) >> shift;
    return static_cast<std::uint16_t>(sign | rounded);
  }
  const std::uint32_t rebased = magnitude - 0x38000000;
  const std::uint32_t rounded = (rebased + 0xFFF + ((rebased >> 13) & 1)) >> 13;
  return static_cast<std::uint16_t>(sign | rounded);
}

}  // namespace headscope::model
