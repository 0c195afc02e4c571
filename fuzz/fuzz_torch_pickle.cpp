// libFuzzer target for the PyTorch checkpoint reader (capture/model/torch_checkpoint.h): inputs starting
// with "PK" are whole torch.save archives (zip directory, byteorder, data.pkl, storages, view bounds);
// any other input is a data.pkl stream for the restricted pickle machine alone, so mutations reach its
// opcodes without having to keep a zip directory consistent. Either a ModelError or tensors whose views
// copy out inside the image; never a crash, hang or out-of-bounds read (built with ASan/UBSan).
//   build-fuzz/fuzz/fuzz_torch_pickle -dict=fuzz/torch_pickle.dict build-fuzz/corpus-torch_pickle fuzz/corpus/torch_pickle
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "capture/model/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace hm = headscope::model;
  try {
    if (size >= 2 && std::memcmp(data, "PK", 2) == 0) {
      const auto checkpoint = hm::parse_torch_checkpoint(data, size, "fuzz-input");
      for (const auto& tensor : checkpoint.tensors) {
        std::vector<std::uint8_t> out(static_cast<std::size_t>(tensor.element_count()) * hm::st_dtype_size(tensor.dtype));
        hm::copy_contiguous(data, checkpoint, tensor, out.data());
      }
    } else {
      const auto state = hm::read_state_dict_pickle(data, size, "fuzz-input");
      for (const auto& tensor : state.tensors)
        if (tensor.shape.size() != tensor.strides.size() || !state.storages.count(tensor.storage_key)) __builtin_trap();
    }
  } catch (const hm::ModelError&) {
  }
  return 0;
}
