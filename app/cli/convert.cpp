// `headscope convert IN OUT_DIR`: a PyTorch checkpoint (a .bin/.pt file, or a folder with pytorch_model.bin
// or a sharded pytorch_model.bin.index.json) read by the restricted reader (nothing in it runs) and
// written as OUT_DIR/model.safetensors, every tensor contiguous in its stored dtype, with the folder's
// other files (config.json, tokenizer files) copied beside it. Torch-free.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "app/cli/registry.h"
#include "capture/model/safetensors_writer.h"
#include "capture/model/torch_checkpoint.h"

namespace {

namespace fs = std::filesystem;
namespace hm = headscope::model;

// Files of the source folder that are not weights (config, tokenizer, generation settings): copied as is.
bool copied_beside(const fs::path& path) {
  return !hm::is_pickle_checkpoint_name(path) && path.filename() != "pytorch_model.bin.index.json" &&
         path.extension() != ".safetensors" && path.filename() != "model.safetensors.index.json";
}

void convert(const fs::path& source, const fs::path& out_dir) {
  const auto files = hm::torch_checkpoint_files(source);
  hm::SafetensorsWriter writer;
  writer.set_metadata("format", "pt");
  std::set<std::string> names;
  std::size_t tensor_count = 0;
  for (const auto& path : files) {
    hm::TorchCheckpointFile checkpoint(path);
    for (const auto& info : checkpoint.tensors()) {
      if (!names.insert(info.name).second) throw hm::ModelError(path.string() + ": tensor '" + info.name + "' is also in another shard");
      const auto bytes = checkpoint.contiguous_bytes(info);
      writer.add(info.name, info.dtype, info.shape, bytes.data(), bytes.size());
      ++tensor_count;
    }
  }
  fs::create_directories(out_dir);
  writer.write(out_dir / "model.safetensors");
  const auto folder = fs::is_directory(source) ? source : source.parent_path();
  std::size_t copied = 0;
  if (!folder.empty())
    for (const auto& entry : fs::directory_iterator(folder))
      if (entry.is_regular_file() && copied_beside(entry.path())) {
        fs::copy_file(entry.path(), out_dir / entry.path().filename(), fs::copy_options::overwrite_existing);
        ++copied;
      }
  std::printf("wrote %s: %zu tensors from %zu checkpoint file(s); copied %zu other file(s)\n",
              (out_dir / "model.safetensors").string().c_str(), tensor_count, files.size(), copied);
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "convert", "Convert a PyTorch checkpoint (.bin/.pt, or a folder with pytorch_model.bin[.index.json]) to safetensors, "
                 "without running anything from the pickle");
  auto source = std::make_shared<std::string>();
  auto out_dir = std::make_shared<std::string>();
  cmd->add_option("in", *source, "The checkpoint file or model folder")->required();
  cmd->add_option("out_dir", *out_dir, "The folder to write model.safetensors and the copied files into")->required();
  cmd->callback([source, out_dir] { convert(*source, *out_dir); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
