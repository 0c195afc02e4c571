// Weight loading: the checkpoint files of a model folder (safetensors or PyTorch, single or sharded),
// tensor lookup across shards, and conversion from the stored dtype to the run dtype and device.
#include "capture/model/weights_torch.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace headscope::model {
namespace {

at::ScalarType torch_type(StDtype dtype, const std::string& origin) {
  switch (dtype) {
    case StDtype::bool_: return at::kBool;
    case StDtype::u8: return at::kByte;
    case StDtype::i8: return at::kChar;
    case StDtype::i16: return at::kShort;
    case StDtype::f16: return at::kHalf;
    case StDtype::bf16: return at::kBFloat16;
    case StDtype::i32: return at::kInt;
    case StDtype::f32: return at::kFloat;
    case StDtype::f64: return at::kDouble;
    case StDtype::i64: return at::kLong;
    default: break;
  }
  throw ModelError(origin + ": dtype " + st_dtype_name(dtype) + " cannot be loaded as a tensor by this libtorch");
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

// Refuses a stored weight whose shape differs from what config.json implies or that is not floating.
void check_stored(const std::string& origin, const std::string& name, StDtype dtype,
                  const std::vector<std::int64_t>& stored_shape, const std::vector<std::int64_t>& shape) {
  if (stored_shape != shape)
    throw ModelError(origin + ": tensor '" + name + "' has shape " + shape_text(stored_shape) +
                     ", config.json implies " + shape_text(shape));
  if (dtype != StDtype::f32 && dtype != StDtype::f16 && dtype != StDtype::bf16)
    throw ModelError(origin + ": tensor '" + name + "' has dtype " + st_dtype_name(dtype) +
                     "; model weights must be F32, F16 or BF16");
}

}  // namespace

at::Tensor tensor_from_safetensors(const SafetensorsFile& file, const StTensorInfo& info) {
  const auto type = torch_type(info.dtype, file.path().string() + ": tensor '" + info.name + "'");
  auto tensor = at::empty(info.shape, at::TensorOptions().dtype(type));
  // Copy through memcpy: the bytes in the file need not be aligned for the element type.
  if (info.end > info.begin) std::memcpy(tensor.data_ptr(), file.data(info), info.end - info.begin);
  return tensor;
}

// Opens every shard an index names (through `open_shard`, which returns the shard's slot) and records
// which slot holds each tensor in `owner`, checking that the shard does hold it.
template <typename OpenShard, typename HoldsTensor>
void open_sharded(const std::filesystem::path& index, OpenShard open_shard, HoldsTensor holds,
                  std::map<std::string, std::size_t>& owner) {
  const auto mapped = read_checkpoint_index(index);
  std::map<std::string, std::size_t> shard_slot;
  for (const auto& [name, shard] : mapped) {
    if (shard_slot.count(shard)) continue;
    const auto path = index.parent_path() / shard;
    if (!std::filesystem::exists(path)) throw ModelError(index.string() + ": shard '" + shard + "' does not exist");
    shard_slot[shard] = open_shard(path);
  }
  for (const auto& [name, shard] : mapped) {
    const auto slot = shard_slot[shard];
    if (!holds(slot, name))
      throw ModelError(index.string() + ": maps tensor '" + name + "' to " + shard + ", which does not hold it");
    owner[name] = slot;
  }
}

WeightSource WeightSource::open(const std::filesystem::path& folder, const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  WeightSource source;
  auto open_safetensors = [&](const fs::path& path) {
    source.files_.push_back(std::make_unique<SafetensorsFile>(path));
    return source.files_.size() - 1;
  };
  auto open_torch = [&](const fs::path& path) {
    source.torch_files_.push_back(std::make_unique<TorchCheckpointFile>(path));
    return source.torch_files_.size() - 1;
  };
  auto add_single_torch = [&](const fs::path& path) {
    const auto slot = open_torch(path);
    for (const auto& info : source.torch_files_[slot]->tensors()) source.torch_owner_[info.name] = slot;
  };
  if (!file.empty() && is_pickle_checkpoint_name(file)) {
    add_single_torch(file);
    return source;
  }
  const auto single = folder / "model.safetensors";
  const auto index = folder / "model.safetensors.index.json";
  const auto torch_single = folder / "pytorch_model.bin";
  const auto torch_index = folder / "pytorch_model.bin.index.json";
  std::vector<fs::path> files;
  std::vector<fs::path> pickles;
  if (fs::exists(single)) {
    files.push_back(single);
  } else if (fs::exists(index)) {
    open_sharded(index, open_safetensors, [&](std::size_t slot, const std::string& name) { return source.files_[slot]->contains(name); },
                 source.owner_);
    return source;
  } else {
    if (fs::is_directory(folder)) {
      for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
        // training_args.bin is the pickled TrainingArguments object transformers' Trainer leaves beside the weights.
        else if (is_pickle_checkpoint_name(entry.path()) && entry.path().filename() != "training_args.bin")
          pickles.push_back(entry.path());
      }
    }
    if (files.size() > 1)
      throw ModelError(folder.string() + ": several .safetensors files but no model.safetensors.index.json");
  }
  if (files.empty()) {
    if (fs::exists(torch_single)) {
      add_single_torch(torch_single);
      return source;
    }
    if (fs::exists(torch_index)) {
      open_sharded(torch_index, open_torch,
                   [&](std::size_t slot, const std::string& name) { return source.torch_files_[slot]->contains(name); },
                   source.torch_owner_);
      return source;
    }
    if (pickles.size() == 1) {
      add_single_torch(pickles.front());
      return source;
    }
    if (pickles.size() > 1)
      throw ModelError(folder.string() + ": several PyTorch checkpoint files but no pytorch_model.bin or "
                                         "pytorch_model.bin.index.json; name the one to load");
    throw ModelError(folder.string() + ": no model.safetensors, model.safetensors.index.json, *.safetensors, "
                                       "pytorch_model.bin or pytorch_model.bin.index.json");
  }
  open_safetensors(files.front());
  for (const auto& info : source.files_.front()->tensors()) source.owner_[info.name] = 0;
  return source;
}

WeightSource WeightSource::random(std::uint64_t seed, double init_std) {
  WeightSource source;
  source.random_ = true;
  source.init_std_ = init_std;
  source.generator_ = at::make_generator<at::CPUGeneratorImpl>(seed);
  return source;
}

at::Tensor WeightSource::load(const std::string& name, const std::vector<std::int64_t>& shape, at::ScalarType dtype,
                              c10::Device device) const {
  if (random_) {
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    const bool norm_weight = ends_with(".weight") && (name.find("norm") != std::string::npos || name.find(".ln_") != std::string::npos ||
                                                  ends_with(".ln.weight"));
    const auto options = at::TensorOptions().dtype(at::kFloat);
    at::Tensor drawn = ends_with(".bias") ? at::zeros(shape, options)
                       : norm_weight      ? at::ones(shape, options)
                                          : at::normal(0.0, init_std_, shape, generator_, options);
    return drawn.to(device, dtype).contiguous();
  }
  at::Tensor tensor;
  std::string origin;
  const auto stored = stored_name(name);
  if (auto torch_it = torch_owner_.find(stored); torch_it != torch_owner_.end()) {
    const auto& file = *torch_files_[torch_it->second];
    const auto& info = file.info(stored);
    origin = file.path().string();
    check_stored(origin, stored, info.dtype, info.shape, shape);
    tensor = load_stored(stored);
  } else {
    auto it = owner_.find(stored);
    if (it == owner_.end()) throw ModelError(describe() + ": missing tensor '" + stored + "'");
    const auto& file = *files_[it->second];
    const auto& info = file.info(stored);
    origin = file.path().string();
    check_stored(origin, stored, info.dtype, info.shape, shape);
    tensor = tensor_from_safetensors(file, info);
    file.release(info);
  }
  if (adapter_ && adapter_->touches(name)) {
    tensor = adapter_->apply(name, tensor);
    adapter_used_.insert(name);
  }
  at::Tensor converted = tensor.to(device, dtype).contiguous();
  // A NaN or infinite weight (a corrupt or diverged checkpoint, or a float32 value beyond float16's range)
  // would make every metric NaN: refuse it here, naming the tensor, instead of writing an all-NaN store.
  if (!at::isfinite(converted).all().item<bool>()) {
    const bool finite_as_stored = at::isfinite(tensor).all().item<bool>();
    throw ModelError(origin + ": tensor '" + name + "' " +
                     (finite_as_stored ? "overflows " + std::string(c10::toString(dtype)) + " (use --dtype float32)"
                                       : "holds NaN or infinite values (a corrupt or diverged checkpoint)"));
  }
  return converted;
}

at::ScalarType WeightSource::stored_dtype() const {
  std::map<StDtype, std::uint64_t> bytes;
  auto floating = [](StDtype dtype) { return dtype == StDtype::f32 || dtype == StDtype::f16 || dtype == StDtype::bf16; };
  for (const auto& file : files_)
    for (const auto& info : file->tensors())
      if (floating(info.dtype)) bytes[info.dtype] += info.end - info.begin;
  for (const auto& file : torch_files_)
    for (const auto& info : file->tensors())
      if (floating(info.dtype)) bytes[info.dtype] += static_cast<std::uint64_t>(info.element_count()) * st_dtype_size(info.dtype);
  StDtype most = StDtype::f32;
  for (const auto& [dtype, count] : bytes)
    if (count > bytes[most]) most = dtype;
  return torch_type(most, describe());
}

std::vector<std::string> WeightSource::names() const {
  std::vector<std::string> all;
  for (const auto& [name, slot] : owner_) all.push_back(name);
  for (const auto& [name, slot] : torch_owner_) all.push_back(name);
  return all;
}

at::Tensor WeightSource::load_stored(const std::string& name) const {
  if (auto torch_it = torch_owner_.find(name); torch_it != torch_owner_.end()) {
    const auto& file = *torch_files_[torch_it->second];
    const auto& info = file.info(name);
    auto tensor = at::empty(info.shape, at::TensorOptions().dtype(torch_type(info.dtype, file.path().string())));
    file.copy_contiguous(info, static_cast<std::uint8_t*>(tensor.data_ptr()));
    file.release(info);
    return tensor;
  }
  auto it = owner_.find(name);
  if (it == owner_.end()) throw ModelError(describe() + ": missing tensor '" + name + "'");
  return tensor_from_safetensors(*files_[it->second], files_[it->second]->info(name));
}

void WeightSource::attach_adapter(const std::filesystem::path& adapter_dir) {
  const auto base_names = names();
  adapter_ = std::make_shared<LoraAdapter>(
      read_peft_adapter(adapter_dir, [this](const std::string& name) { return contains(name); }, base_names));
}

std::vector<std::string> WeightSource::unused_adapter_targets() const {
  std::vector<std::string> unused;
  if (!adapter_) return unused;
  for (const auto& [name, update] : adapter_->updates)
    if (!adapter_used_.count(name)) unused.push_back(name);
  for (const auto& [name, tensor] : adapter_->replacements)
    if (!adapter_used_.count(name)) unused.push_back(name);
  return unused;
}

namespace {
const std::string kCodiPrefix = "codi.base_model.model.";
}

bool WeightSource::is_codi() const {
  for (const auto* owner : {&owner_, &torch_owner_}) {
    auto it = owner->lower_bound(kCodiPrefix);
    if (it != owner->end() && it->first.compare(0, kCodiPrefix.size(), kCodiPrefix) == 0) return true;
  }
  return false;
}

std::string WeightSource::stored_name(const std::string& name) const {
  if (!codi_ || name.compare(0, 4, "prj.") == 0) return name;
  const auto plain = kCodiPrefix + name;
  if (holds(plain)) return plain;
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return plain;
  const auto layered = kCodiPrefix + name.substr(0, dot) + ".base_layer" + name.substr(dot);  // PEFT >= 0.7
  return holds(layered) ? layered : plain;
}

std::optional<std::vector<std::int64_t>> WeightSource::stored_shape(const std::string& name) const {
  const auto stored = stored_name(name);
  if (auto it = torch_owner_.find(stored); it != torch_owner_.end()) return torch_files_[it->second]->info(stored).shape;
  if (auto it = owner_.find(stored); it != owner_.end()) return files_[it->second]->info(stored).shape;
  return std::nullopt;
}

void WeightSource::read_as_codi(double lora_alpha, bool fan_in_fan_out) {
  codi_ = true;
  auto adapter = std::make_shared<LoraAdapter>();
  adapter->origin = describe();
  adapter->fan_in_fan_out = fan_in_fan_out;
  collect_lora_tensors(*adapter, names(), kCodiPrefix, [this](const std::string& stored) { return load_stored(stored); },
                       [this](const std::string& name) { return contains(name); }, false, true);
  std::int64_t rank = 0;
  for (const auto& [target, update] : adapter->updates) {
    if (rank && update.down.size(0) != rank)
      throw ModelError(adapter->origin + ": LoRA ranks differ ('" + target + "' has " + std::to_string(update.down.size(0)) +
                       ", others " + std::to_string(rank) + ")");
    rank = update.down.size(0);
  }
  adapter->scale = rank ? lora_alpha / static_cast<double>(rank) : 1.0;
  if (!adapter->updates.empty()) adapter_ = std::move(adapter);
}

std::string WeightSource::describe() const {
  std::ostringstream text;
  for (std::size_t i = 0; i < files_.size(); ++i) text << (i ? ", " : "") << files_[i]->path().string();
  for (std::size_t i = 0; i < torch_files_.size(); ++i)
    text << (i || !files_.empty() ? ", " : "") << torch_files_[i]->path().string();
  return text.str();
}

}  // namespace headscope::model
