// libFuzzer target: the .npy header parser and element conversion on arbitrary bytes. Every input must
// parse or raise ImportError.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/io/import.h"
#include "core/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto array = headscope::io::parse_npy("fuzz.npy", std::vector<unsigned char>(data, data + size));
    if (array.header.element_count() < (1u << 20)) {
      volatile float sink = 0;
      for (float v : array.to_floats()) sink = sink + v;
      (void)array.to_int32("fuzz.npy");
    }
  } catch (const headscope::io::ImportError&) {
  }
  return 0;
}
