// torch.save archives (see torch_checkpoint.h): the archive's layout, the views' bounds (in 128-bit
// arithmetic, so hostile sizes and strides cannot overflow), the strided copy, and the mapped file.
#include "capture/model/torch_checkpoint.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "capture/model/safetensors.h"

namespace headscope::model {
namespace {

__extension__ typedef __int128 WideInt;  // bounds arithmetic that hostile sizes cannot overflow

[[noreturn]] void fail(const std::string& origin, const std::string& what) { throw ModelError(origin + ": " + what); }

// The archive's folder prefix: torch names it after the file ("pytorch_model/data.pkl", "archive/data.pkl").
std::string find_prefix(const std::map<std::string, ZipEntry>& entries, const std::string& origin) {
  std::string prefix;
  bool found = false;
  for (const auto& [name, entry] : entries) {
    const auto slash = name.find('/');
    if (slash == std::string::npos || name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (found) fail(origin, "the archive holds several data.pkl files");
    prefix = name.substr(0, slash + 1);
    found = true;
  }
  if (!found) {
    for (const auto& [name, entry] : entries)
      if (name.size() >= 13 && name.compare(name.size() - 13, 13, "constants.pkl") == 0)
        fail(origin, "is a TorchScript archive (torch.jit.save), not a state dict saved with torch.save");
    fail(origin, "the zip archive holds no PREFIX/data.pkl: not a torch.save checkpoint");
  }
  return prefix;
}

// Checks `tensor`'s view against its storage: non-negative sizes, strides and offset, the last element
// inside the storage, and no more elements than the storage holds (which bounds what a copy allocates).
void check_view(const PtTensorInfo& tensor, const PtStorageInfo& storage, const std::string& origin) {
  const auto where = "tensor '" + tensor.name + "'";
  if (tensor.storage_offset < 0) fail(origin, where + " has a negative storage offset");
  WideInt count = 1, last = tensor.storage_offset;
  for (std::size_t d = 0; d < tensor.shape.size(); ++d) {
    if (tensor.shape[d] < 0 || tensor.strides[d] < 0) fail(origin, where + " has a negative size or stride");
    count *= tensor.shape[d];
    if (count > storage.element_count) count = storage.element_count + WideInt{1};  // saturate: too many
    if (tensor.shape[d] > 0) last += static_cast<WideInt>(tensor.shape[d] - 1) * tensor.strides[d];
    if (last > storage.element_count) last = storage.element_count;  // saturate: past the end
  }
  if (count > storage.element_count)
    fail(origin, where + " has more elements than its storage '" + tensor.storage_key + "' (" +
                     std::to_string(storage.element_count) + ")");
  if (count > 0 && last >= storage.element_count)
    fail(origin, where + " reaches past the end of its storage '" + tensor.storage_key + "'");
}

}  // namespace

PtCheckpoint parse_torch_checkpoint(const std::uint8_t* bytes, std::size_t size, const std::string& origin) {
  if (size >= 2 && bytes[0] == 0x80 && bytes[1] <= 5)
    fail(origin, "is a legacy (pre-1.6) torch.save file, which is not read; re-save it where you trust it with "
                 "torch.save(torch.load(IN), OUT) on torch >= 1.6, or convert it to safetensors");
  if (size < 4 || std::memcmp(bytes, "PK\x03\x04", 4) != 0) fail(origin, "is not a zip archive (torch.save >= 1.6 writes one)");
  const auto entries = read_zip_directory(bytes, size, origin);
  const auto prefix = find_prefix(entries, origin);
  auto byteorder = entries.find(prefix + "byteorder");
  if (byteorder != entries.end()) {
    const std::string order(reinterpret_cast<const char*>(bytes + byteorder->second.begin),
                            static_cast<std::size_t>(std::min<std::uint64_t>(byteorder->second.size, 16)));
    if (order != "little") fail(origin, "was saved on a '" + order + "'-endian machine; only little-endian is read");
  }
  const auto& pickle = entries.at(prefix + "data.pkl");
  auto state = read_state_dict_pickle(bytes + pickle.begin, static_cast<std::size_t>(pickle.size), origin);
  PtCheckpoint checkpoint;
  for (const auto& [key, storage] : state.storages) {
    auto entry = entries.find(prefix + "data/" + key);
    if (entry == entries.end()) fail(origin, "storage '" + key + "' has no entry " + prefix + "data/" + key);
    const auto expected = static_cast<WideInt>(storage.element_count) * st_dtype_size(storage.dtype);
    if (entry->second.size != expected)
      fail(origin, "entry " + entry->first + " holds " + std::to_string(entry->second.size) + " bytes, its storage needs " +
                       std::to_string(static_cast<std::uint64_t>(expected)));
    checkpoint.storage_data[key] = entry->second;
  }
  std::map<std::string, bool> seen;
  for (auto& tensor : state.tensors) {
    if (!seen.emplace(tensor.name, true).second) fail(origin, "tensor '" + tensor.name + "' appears twice");
    check_view(tensor, state.storages.at(tensor.storage_key), origin);
  }
  checkpoint.tensors = std::move(state.tensors);
  return checkpoint;
}

void copy_contiguous(const std::uint8_t* image, const PtCheckpoint& checkpoint, const PtTensorInfo& tensor,
                     std::uint8_t* out) {
  const auto element_size = st_dtype_size(tensor.dtype);
  const auto count = tensor.element_count();
  if (count == 0) return;
  const auto* storage = image + checkpoint.storage_data.at(tensor.storage_key).begin;
  const auto rank = tensor.shape.size();
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t source = tensor.storage_offset;
  // Row-major walk with an odometer over the indices; the innermost run is copied element by element.
  for (std::int64_t written = 0; written < count; ++written) {
    std::memcpy(out + static_cast<std::size_t>(written) * element_size,
                storage + static_cast<std::size_t>(source) * element_size, element_size);
    for (std::size_t d = rank; d-- > 0;) {
      source += tensor.strides[d];
      if (++index[d] < tensor.shape[d]) break;
      source -= tensor.strides[d] * tensor.shape[d];
      index[d] = 0;
    }
  }
}

TorchCheckpointFile::TorchCheckpointFile(const std::filesystem::path& path) : path_(path) {
  const std::string origin = path.string();
  const int fd = ::open(origin.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ModelError(origin + ": cannot open: " + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd, &status) != 0 || status.st_size <= 0) {
    ::close(fd);
    throw ModelError(origin + ": cannot read, or empty");
  }
  size_ = static_cast<std::size_t>(status.st_size);
  void* mapping = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED) throw ModelError(origin + ": cannot memory-map: " + std::strerror(errno));
  bytes_ = static_cast<const std::uint8_t*>(mapping);
  try {
    checkpoint_ = parse_torch_checkpoint(bytes_, size_, origin);
  } catch (...) {
    ::munmap(const_cast<std::uint8_t*>(bytes_), size_);
    throw;
  }
  for (std::size_t i = 0; i < checkpoint_.tensors.size(); ++i) index_[checkpoint_.tensors[i].name] = i;
}

TorchCheckpointFile::~TorchCheckpointFile() {
  if (bytes_) ::munmap(const_cast<std::uint8_t*>(bytes_), size_);
}

TorchCheckpointFile::TorchCheckpointFile(TorchCheckpointFile&& other) noexcept
    : path_(std::move(other.path_)),
      bytes_(other.bytes_),
      size_(other.size_),
      checkpoint_(std::move(other.checkpoint_)),
      index_(std::move(other.index_)) {
  other.bytes_ = nullptr;
  other.size_ = 0;
}

const PtTensorInfo& TorchCheckpointFile::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw ModelError(path_.string() + ": missing tensor '" + name + "'");
  return checkpoint_.tensors[it->second];
}

std::vector<std::uint8_t> TorchCheckpointFile::contiguous_bytes(const PtTensorInfo& tensor) const {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(tensor.element_count()) * st_dtype_size(tensor.dtype));
  copy_contiguous(tensor, out.data());
  return out;
}

void TorchCheckpointFile::copy_contiguous(const PtTensorInfo& tensor, std::uint8_t* out) const {
  model::copy_contiguous(bytes_, checkpoint_, tensor, out);
}

void TorchCheckpointFile::release(const PtTensorInfo& tensor) const noexcept {
  const auto storage = checkpoint_.storage_data.find(tensor.storage_key);
  if (!bytes_ || storage == checkpoint_.storage_data.end()) return;
  release_mapped_range(bytes_ + storage->second.begin, static_cast<std::size_t>(storage->second.size));
}

bool is_pickle_checkpoint_name(const std::filesystem::path& path) {
  const auto extension = path.extension().string();
  return extension == ".bin" || extension == ".pt" || extension == ".pth" || extension == ".ckpt" ||
         extension == ".pkl";
}

std::map<std::string, std::string> read_checkpoint_index(const std::filesystem::path& index) {
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
  for (auto it = json["weight_map"].begin(); it != json["weight_map"].end(); ++it) {
    if (!it->is_string()) throw ModelError(index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
    const auto shard = it->get<std::string>();
    if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
      throw ModelError(index.string() + ": weight_map entry '" + it.key() + "' names a file outside the folder");
    mapped[it.key()] = shard;
  }
  return mapped;
}

std::vector<std::filesystem::path> torch_checkpoint_files(const std::filesystem::path& source) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(source)) return {source};
  const auto single = source / "pytorch_model.bin", index = source / "pytorch_model.bin.index.json";
  if (fs::exists(single)) return {single};
  if (!fs::exists(index))
    throw ModelError(source.string() + ": neither a checkpoint file nor a folder with pytorch_model.bin or "
                                       "pytorch_model.bin.index.json");
  std::set<std::string> shards;
  for (const auto& [name, shard] : read_checkpoint_index(index)) shards.insert(shard);
  std::vector<fs::path> files;
  for (const auto& shard : shards) {
    if (!fs::exists(source / shard)) throw ModelError(index.string() + ": shard '" + shard + "' does not exist");
    files.push_back(source / shard);
  }
  return files;
}

}  // namespace headscope::model
