// A restricted pickle machine for the data.pkl of a torch.save archive: it understands only what a
// state dict needs (the subset torch.load(weights_only=True) allows): dicts and OrderedDicts, tuples and
// lists, ints, floats, strings, bools, None, tensors rebuilt by torch._utils._rebuild_tensor_v2 or
// _rebuild_parameter from storages named by persistent ids ('storage', torch.<Type>Storage, key,
// location, numel). Any other opcode or global is refused before anything is built: no code runs.
// Torch-free (fuzzed); capture/model/torch_checkpoint.h binds the tensors to the archive's bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "capture/model/model_error.h"
#include "capture/model/safetensors.h"

namespace headscope::model {

// One tensor of the state dict: a strided view of a storage, in elements (PyTorch's convention).
struct PtTensorInfo {
  std::string name;  // nested dicts' keys joined with '.'
  StDtype dtype = StDtype::f32;
  std::vector<std::int64_t> shape;    // [d0, d1, ...]
  std::vector<std::int64_t> strides;  // same rank as shape, in elements
  std::int64_t storage_offset = 0;    // in elements
  std::string storage_key;            // the archive entry data/<key>
  std::int64_t element_count() const;
};

// A storage named by a persistent id: its element type and element count.
struct PtStorageInfo {
  StDtype dtype = StDtype::f32;
  std::int64_t element_count = 0;
};

struct PtStateDict {
  std::vector<PtTensorInfo> tensors;              // in pickle order
  std::map<std::string, PtStorageInfo> storages;  // by key
};

// Runs the restricted machine over `bytes` (a data.pkl). The result must be a dict; its tensor values
// (and those of nested dicts, named 'outer.inner') are returned, other values (ints, strings) dropped.
// Throws ModelError naming `origin` and the refused opcode or global, or what was malformed.
PtStateDict read_state_dict_pickle(const std::uint8_t* bytes, std::size_t size, const std::string& origin);

}  // namespace headscope::model
