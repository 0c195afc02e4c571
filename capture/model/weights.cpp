// Weight loading: the checkpoint files of a model folder (single, sharded or refused pickle), tensor
// lookup across shards, and conversion from the stored dtype to the run dtype and device.
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

}  // namespace

bool is_pickle_checkpoint_name(const std::filesystem::path& path) {
  const auto extension = path.extension().string();
  return extension == ".bin" || extension == ".pt" || extension == ".pth" || extension == ".ckpt" ||
         extension == ".pkl";
}

void refuse_pickle_checkpoint(const std::filesystem::path& path) {
  throw ModelError(path.string() +
                   ": is a pickle checkpoint. HeadScope never loads pickle files, because unpickling can execute "
                   "code from the file; loading a model must never run code. Convert it once to safetensors where "
                   "you trust it: python -c \"from transformers import AutoModelForCausalLM as M; "
                   "M.from_pretrained(DIR).save_pretrained(OUT, safe_serialization=True)\"");
}

at::Tensor tensor_from_safetensors(const SafetensorsFile& file, const StTensorInfo& info) {
  const auto type = torch_type(info.dtype, file.path().string() + ": tensor '" + info.name + "'");
  auto tensor = at::empty(info.shape, at::TensorOptions().dtype(type));
  // Copy through memcpy: the bytes in the file need not be aligned for the element type.
  if (info.end > info.begin) std::memcpy(tensor.data_ptr(), file.data(info), info.end - info.begin);
  return tensor;
}

WeightSource WeightSource::open(const std::filesystem::path& folder) {
  namespace fs = std::filesystem;
  WeightSource source;
  const auto single = folder / "model.safetensors";
  const auto index = folder / "model.safetensors.index.json";
  std::vector<fs::path> files;
  if (fs::exists(single)) {
    files.push_back(single);
  } else if (fs::exists(index)) {
    std::ifstream in(index, std::ios::binary);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw ModelError(index.string() + ": not valid JSON: " + e.what());
    }
    if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object())
      throw ModelError(index.string() + ": field 'weight_map' is missing or not an object");
    std::map<std::string, std::string> mapped;
    std::set<std::string> shard_names;
    for (auto it = json["weight_map"].begin(); it != json["weight_map"].end(); ++it) {
      if (!it->is_string()) throw ModelError(index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
      const auto shard = it->get<std::string>();
      if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
        throw ModelError(index.string() + ": weight_map entry '" + it.key() + "' names a file outside the folder");
      mapped[it.key()] = shard;
      shard_names.insert(shard);
    }
    std::map<std::string, std::size_t> shard_slot;
    for (const auto& shard : shard_names) {
      if (!fs::exists(folder / shard)) throw ModelError(index.string() + ": shard '" + shard + "' does not exist");
      shard_slot[shard] = source.files_.size();
      source.files_.push_back(std::make_unique<SafetensorsFile>(folder / shard));
    }
    for (const auto& [name, shard] : mapped) {
      const auto slot = shard_slot[shard];
      if (!source.files_[slot]->contains(name))
        throw ModelError(index.string() + ": maps tensor '" + name + "' to " + shard + ", which does not hold it");
      source.owner_[name] = slot;
    }
    return source;
  } else {
    std::vector<fs::path> pickles;
    if (fs::is_directory(folder)) {
      for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
        else if (is_pickle_checkpoint_name(entry.path())) pickles.push_back(entry.path());
      }
    }
    if (files.size() > 1)
      throw ModelError(folder.string() + ": several .safetensors files but no model.safetensors.index.json");
    if (files.empty() && !pickles.empty()) refuse_pickle_checkpoint(pickles.front());
    if (files.empty())
      throw ModelError(folder.string() + ": no model.safetensors, model.safetensors.index.json or *.safetensors");
  }
  source.files_.push_back(std::make_unique<SafetensorsFile>(files.front()));
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
  auto it = owner_.find(name);
  if (it == owner_.end()) throw ModelError(describe() + ": missing tensor '" + name + "'");
  const auto& file = *files_[it->second];
  const auto& info = file.info(name);
  if (info.shape != shape)
    throw ModelError(file.path().string() + ": tensor '" + name + "' has shape " + shape_text(info.shape) +
                     ", config.json implies " + shape_text(shape));
  if (info.dtype != StDtype::f32 && info.dtype != StDtype::f16 && info.dtype != StDtype::bf16)
    throw ModelError(file.path().string() + ": tensor '" + name + "' has dtype " + st_dtype_name(info.dtype) +
                     "; model weights must be F32, F16 or BF16");
  auto tensor = tensor_from_safetensors(file, info);
  file.release(info);
  at::Tensor converted = tensor.to(device, dtype).contiguous();
  // A NaN or infinite weight (a corrupt or diverged checkpoint, or a float32 value beyond float16's range)
  // would make every metric NaN: refuse it here, naming the tensor, instead of writing an all-NaN store.
  if (!at::isfinite(converted).all().item<bool>()) {
    const bool finite_as_stored = at::isfinite(tensor).all().item<bool>();
    throw ModelError(file.path().string() + ": tensor '" + name + "' " +
                     (finite_as_stored ? "overflows " + std::string(c10::toString(dtype)) + " (use --dtype float32)"
                                       : "holds NaN or infinite values (a corrupt or diverged checkpoint)"));
  }
  return converted;
}

at::ScalarType WeightSource::stored_dtype() const {
  std::map<StDtype, std::uint64_t> bytes;
  for (const auto& file : files_)
    for (const auto& info : file->tensors())
      if (info.dtype == StDtype::f32 || info.dtype == StDtype::f16 || info.dtype == StDtype::bf16)
        bytes[info.dtype] += info.end - info.begin;
  StDtype most = StDtype::f32;
  for (const auto& [dtype, count] : bytes)
    if (count > bytes[most]) most = dtype;
  return torch_type(most, describe());
}

std::string WeightSource::describe() const {
  std::ostringstream text;
  for (std::size_t i = 0; i < files_.size(); ++i) text << (i ? ", " : "") << files_[i]->path().string();
  return text.str();
}

}  // namespace headscope::model
