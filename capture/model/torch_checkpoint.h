// PyTorch checkpoints written by torch.save (a zip archive: PREFIX/data.pkl, PREFIX/data/<key> per
// storage, PREFIX/byteorder): parsed without executing anything (torch_zip.h + torch_pickle.h), each
// tensor's strided view checked to lie inside its storage, and copied out contiguous on request. Tied
// weights (two names, one storage) and transposed views are read as torch.load would. Torch-free.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "capture/model/torch_pickle.h"
#include "capture/model/torch_zip.h"

namespace headscope::model {

struct PtCheckpoint {
  std::vector<PtTensorInfo> tensors;          // in pickle order, every view inside its storage
  std::map<std::string, ZipEntry> storage_data;  // storage key -> its bytes in the image
};

// Parses and validates a whole file image. Refuses the legacy (pre-1.6) format, TorchScript archives,
// big-endian archives, any pickle content beyond the state-dict subset, storages whose data entry is
// missing or of the wrong size, and views reaching outside their storage. Safe on arbitrary bytes.
PtCheckpoint parse_torch_checkpoint(const std::uint8_t* bytes, std::size_t size, const std::string& origin);

// Copies `tensor`'s elements in row-major order into `out` (element_count x dtype size bytes).
void copy_contiguous(const std::uint8_t* image, const PtCheckpoint& checkpoint, const PtTensorInfo& tensor,
                     std::uint8_t* out);

// A memory-mapped, validated checkpoint file. Move-only.
class TorchCheckpointFile {
 public:
  explicit TorchCheckpointFile(const std::filesystem::path& path);
  ~TorchCheckpointFile();
  TorchCheckpointFile(TorchCheckpointFile&& other) noexcept;
  TorchCheckpointFile(const TorchCheckpointFile&) = delete;
  TorchCheckpointFile& operator=(const TorchCheckpointFile&) = delete;
  TorchCheckpointFile& operator=(TorchCheckpointFile&&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<PtTensorInfo>& tensors() const { return checkpoint_.tensors; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws ModelError ("missing tensor NAME") when absent.
  const PtTensorInfo& info(const std::string& name) const;
  // The tensor's elements, contiguous, as bytes of its dtype (into `out`: element_count x dtype size bytes).
  std::vector<std::uint8_t> contiguous_bytes(const PtTensorInfo& tensor) const;
  void copy_contiguous(const PtTensorInfo& tensor, std::uint8_t* out) const;
  // Drops the mapping's resident pages of the tensor's storage once it has been copied out (as
  // SafetensorsFile::release), so a load holds each weight once; another view of the storage (a tied
  // weight) reads the file again.
  void release(const PtTensorInfo& tensor) const noexcept;

 private:
  std::filesystem::path path_;
  const std::uint8_t* bytes_ = nullptr;
  std::size_t size_ = 0;
  PtCheckpoint checkpoint_;
  std::map<std::string, std::size_t> index_;
};

// .bin, .pt, .pth, .ckpt, .pkl: names PyTorch checkpoints go by.
bool is_pickle_checkpoint_name(const std::filesystem::path& path);

// A sharded checkpoint's index (model.safetensors.index.json or pytorch_model.bin.index.json): tensor
// name -> shard file name, every shard a plain name inside the index's folder. Throws ModelError.
std::map<std::string, std::string> read_checkpoint_index(const std::filesystem::path& index);

// The checkpoint files of `source`: the file itself, or a folder's pytorch_model.bin, or the shards its
// pytorch_model.bin.index.json names (each once, in name order). Throws ModelError naming what is missing.
std::vector<std::filesystem::path> torch_checkpoint_files(const std::filesystem::path& source);

}  // namespace headscope::model
