// libFuzzer target for the safetensors header parser (capture/model/safetensors.h): any byte string
// must either parse into tensors whose spans lie inside the data area without overlapping, or raise a
// ModelError; never crash, hang or read out of bounds (built with ASan/UBSan).
//   build-fuzz/fuzz/fuzz_safetensors -dict=fuzz/safetensors.dict build-fuzz/corpus-safetensors fuzz/corpus/safetensors
#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto header = headscope::model::parse_safetensors_header(data, size, "fuzz-input");
    const std::uint64_t data_size = size - header.data_offset;
    std::vector<std::uint8_t> touched(static_cast<std::size_t>(data_size), 0);
    for (const auto& info : header.tensors) {
      if (info.begin > info.end || info.end > data_size) __builtin_trap();
      for (std::uint64_t byte = info.begin; byte < info.end; ++byte) {
        if (touched[static_cast<std::size_t>(byte)]) __builtin_trap();  // overlap slipped through
        touched[static_cast<std::size_t>(byte)] = 1;
      }
      volatile std::uint8_t sink = 0;
      if (info.end > info.begin) sink = data[header.data_offset + info.end - 1];  // the span is readable
      (void)sink;
    }
  } catch (const headscope::model::ModelError&) {
  }
  return 0;
}
