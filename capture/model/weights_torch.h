// Checkpoint weights as tensors (private to capture/): a folder's safetensors files (single or sharded
// through model.safetensors.index.json) behind one name lookup, with shape checks and conversion to the
// run dtype and device; pickle checkpoints are refused. Also the family constructors model.cpp calls.
#pragma once
#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"

namespace headscope::model {

// A CPU tensor with the entry's stored dtype and shape (a copy; the mapping may go away).
at::Tensor tensor_from_safetensors(const SafetensorsFile& file, const StTensorInfo& info);

class WeightSource {
 public:
  // Finds model.safetensors, model.safetensors.index.json or a single *.safetensors in `folder`.
  // Throws ModelError, with conversion advice when only pickle checkpoints are there.
  static WeightSource open(const std::filesystem::path& folder);
  // No files: load() draws fresh float32 CPU tensors from `seed` in call order (names ending in ".bias" 0,
  // norm weights 1, everything else normal(0, init_std)), then converts them. For Model::create_random.
  static WeightSource random(std::uint64_t seed, double init_std);

  bool contains(const std::string& name) const { return random_ || owner_.count(name) != 0; }
  // Loads `name`, checks it has `shape`, converts it to `dtype` on `device`.
  at::Tensor load(const std::string& name, const std::vector<std::int64_t>& shape, at::ScalarType dtype,
                  c10::Device device) const;
  std::string describe() const;  // the files, for error messages
  // The floating dtype that holds most of the weights' bytes (float32 for random sources).
  at::ScalarType stored_dtype() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::size_t> owner_;  // tensor name -> index in files_
  bool random_ = false;
  double init_std_ = 0.02;
  mutable at::Generator generator_;  // random sources only
};

// Throws the "pickle checkpoints are never loaded" ModelError for `path`.
[[noreturn]] void refuse_pickle_checkpoint(const std::filesystem::path& path);
bool is_pickle_checkpoint_name(const std::filesystem::path& path);

std::unique_ptr<Model> make_gpt2_model(const ModelConfig& config, const WeightSource& weights, c10::Device device,
                                       at::ScalarType dtype);
std::unique_ptr<Model> make_llama_family_model(const ModelConfig& config, const WeightSource& weights,
                                               c10::Device device, at::ScalarType dtype);

}  // namespace headscope::model
