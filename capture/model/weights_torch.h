// Checkpoint weights as tensors (private to capture/): a folder's safetensors files (single or sharded
// through model.safetensors.index.json) or, failing those, its PyTorch checkpoints (pytorch_model.bin,
// sharded through pytorch_model.bin.index.json, read by the restricted reader of torch_checkpoint.h)
// behind one name lookup, with shape checks and conversion to the run dtype and device. Also the family
// constructors model.cpp calls.
#pragma once
#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "capture/model/lora_torch.h"
#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"
#include "capture/model/torch_checkpoint.h"

namespace headscope::model {

// A CPU tensor with the entry's stored dtype and shape (a copy; the mapping may go away).
at::Tensor tensor_from_safetensors(const SafetensorsFile& file, const StTensorInfo& info);

class WeightSource {
 public:
  // Finds, in this order, model.safetensors, model.safetensors.index.json, a single *.safetensors,
  // pytorch_model.bin, pytorch_model.bin.index.json or a single other .bin/.pt/.pth (training_args.bin
  // aside) in `folder`; `file`, when given, names the checkpoint file to read instead. Throws ModelError.
  static WeightSource open(const std::filesystem::path& folder, const std::filesystem::path& file = {});
  // No files: load() draws fresh float32 CPU tensors from `seed` in call order (names ending in ".bias" 0,
  // norm weights 1, everything else normal(0, init_std)), then converts them. For Model::create_random.
  static WeightSource random(std::uint64_t seed, double init_std);

  bool contains(const std::string& name) const { return random_ || holds(stored_name(name)); }
  // Loads `name`, checks it has `shape`, converts it to `dtype` on `device`.
  at::Tensor load(const std::string& name, const std::vector<std::int64_t>& shape, at::ScalarType dtype,
                  c10::Device device) const;
  std::string describe() const;  // the files, for error messages
  // Every tensor name of the files (none for random sources), and one tensor as stored (CPU, no checks).
  std::vector<std::string> names() const;
  at::Tensor load_stored(const std::string& name) const;
  // Merges a PEFT LoRA adapter folder (lora_torch.h) into the weights it targets as load() reads them.
  // Throws ModelError naming the adapter's file when it does not fit this checkpoint.
  void attach_adapter(const std::filesystem::path& adapter_dir);
  void attach_adapter(std::shared_ptr<const LoraAdapter> adapter) { adapter_ = std::move(adapter); }
  // Names the adapter updates or replaces that no load() has read (e.g. a tied lm_head): merging them
  // silently would do nothing, so Model::load refuses them.
  std::vector<std::string> unused_adapter_targets() const;
  // A CODI checkpoint (the CODI authors' whole-module state dict): names under "codi.base_model.model.".
  bool is_codi() const;
  // Reads it as its base model from now on: names are looked up under that prefix (PEFT's
  // "MODULE.base_layer.weight" or "MODULE.weight"), "prj.*" as stored, and the LoRA pairs it holds merge
  // with scale lora_alpha / r (transposed for GPT-2's Conv1D when fan_in_fan_out).
  void read_as_codi(double lora_alpha, bool fan_in_fan_out);
  // The stored shape of `name` (through the CODI names), or none when absent.
  std::optional<std::vector<std::int64_t>> stored_shape(const std::string& name) const;
  // The floating dtype that holds most of the weights' bytes (float32 for random sources).
  at::ScalarType stored_dtype() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::size_t> owner_;  // tensor name -> index in files_
  std::vector<std::unique_ptr<TorchCheckpointFile>> torch_files_;
  std::map<std::string, std::size_t> torch_owner_;  // tensor name -> index in torch_files_
  bool random_ = false;
  double init_std_ = 0.02;
  mutable at::Generator generator_;  // random sources only
  bool holds(const std::string& stored) const { return owner_.count(stored) != 0 || torch_owner_.count(stored) != 0; }
  std::string stored_name(const std::string& name) const;  // the CODI mapping, else `name`
  bool codi_ = false;
  std::shared_ptr<const LoraAdapter> adapter_;
  mutable std::set<std::string> adapter_used_;
};

// Reads a CODI checkpoint in `folder` as a continuous-thought model (codi.cpp): the LoRA merged (lora_alpha
// from an adapter_config.json beside it, else `default_lora_alpha`), config.vocab_size from the resized
// embedding, and, unless config.json has one, config.latent filled as the authors run it (6 steps, bot =
// vocab + 1, eot = vocab + 2, the projection when "prj.1.weight" is there). Throws ModelError.
void adopt_codi_checkpoint(const std::filesystem::path& folder, ModelConfig& config, WeightSource& weights,
                           double default_lora_alpha);
constexpr double kCodiDefaultLoraAlpha = 32;  // the authors' scripts (lora_r 128, lora_alpha 32)

std::unique_ptr<Model> make_gpt2_model(const ModelConfig& config, const WeightSource& weights, c10::Device device,
                                       at::ScalarType dtype);
std::unique_ptr<Model> make_llama_family_model(const ModelConfig& config, const WeightSource& weights,
                                               c10::Device device, at::ScalarType dtype);

}  // namespace headscope::model
