// libFuzzer target: the .npz (zip) reader — central directory, zip64 records, stored and deflated
// members, CRC checks, the .npy inside. Every input must read or raise ImportError.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/io/import.h"
#include "core/io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    headscope::io::NpzFile npz("fuzz.npz", std::vector<unsigned char>(data, data + size));
    for (const auto& name : npz.names()) {
      try {
        std::uint64_t rows = 0, columns = 0;
        (void)npz.int32_matrix(name, rows, columns);
      } catch (const headscope::io::ImportError&) {
      }
    }
  } catch (const headscope::io::ImportError&) {
  }
  return 0;
}
