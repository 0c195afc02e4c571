// PyTorch checkpoints (torch.save zip archives) read by the restricted reader, against files written at
// test time by Debian's torch (tests/capture/torch_checkpoints.py): every dtype, views and tied storages
// give torch.load's bytes exactly; a pickle that would run a command is refused and runs nothing; the
// legacy format, truncated or inconsistent archives raise a ModelError; the tiny HF models load from
// pytorch_model.bin (single and sharded) with bitwise the weights and logits of their safetensors.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/model/model_torch.h"
#include "capture/model/safetensors.h"
#include "capture/model/torch_checkpoint.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

hm::PtCheckpoint parse_image(const std::string& image) {
  return hm::parse_torch_checkpoint(reinterpret_cast<const std::uint8_t*>(image.data()), image.size(), "image.bin");
}

class TorchCheckpoint : public ::testing::Test {
 protected:
  // The files of torch_checkpoints.py, written once for the suite.
  static void SetUpTestSuite() {
    dir_ = fs::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / "TorchCheckpoint.files";
    marker_ = dir_.parent_path() / "TorchCheckpoint.marker";
    fs::remove_all(dir_);
    fs::remove(marker_);
    if (!fs::exists("/usr/bin/python3")) return;
    const auto script = fs::path(HEADSCOPE_TEST_FIXTURES).parent_path() / "capture" / "torch_checkpoints.py";
    const auto command = "/usr/bin/python3 " + script.string() + " " + dir_.string() + " " + marker_.string() + " " +
                         (fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference").string() + " > " + dir_.string() + ".log 2>&1";
    written_ = std::system(command.c_str()) == 0;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "Debian's python3-torch (scripts/install-deps.sh) is missing";
    ASSERT_TRUE(written_) << "torch_checkpoints.py failed: see " << dir_.string() << ".log";
  }
  static fs::path dir_, marker_;
  static bool written_;
};
fs::path TorchCheckpoint::dir_, TorchCheckpoint::marker_;
bool TorchCheckpoint::written_ = false;

TEST_F(TorchCheckpoint, EveryDtypeViewAndTiedStorageGivesTorchLoadsBytes) {
  hm::TorchCheckpointFile file(dir_ / "mixed.bin");
  std::ifstream manifest_in(dir_ / "mixed" / "manifest.json");
  const auto manifest = nlohmann::json::parse(manifest_in);
  ASSERT_EQ(file.tensors().size(), manifest.size());
  const std::map<std::string, std::string> dtype_names = {
      {"float32", "F32"}, {"float16", "F16"}, {"bfloat16", "BF16"}, {"int64", "I64"}};
  for (auto it = manifest.begin(); it != manifest.end(); ++it) {
    SCOPED_TRACE(it.key());
    const auto& info = file.info(it.key());
    EXPECT_EQ(hm::st_dtype_name(info.dtype), dtype_names.at((*it)["dtype"].get<std::string>()));
    EXPECT_EQ(info.shape, (*it)["shape"].get<std::vector<std::int64_t>>());
    const auto bytes = file.contiguous_bytes(info);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), read_bytes(dir_ / "mixed" / (it.key() + ".raw")));
  }
  EXPECT_EQ(file.info("tied_a").storage_key, file.info("tied_b").storage_key);
  EXPECT_EQ(file.info("transposed").strides, (std::vector<std::int64_t>{1, 6}));
  EXPECT_EQ(file.info("offset_view").storage_offset, 13);
}

TEST_F(TorchCheckpoint, PickleThatWouldRunACommandIsRefusedAndRunsNothing) {
  EXPECT_THROW(hm::TorchCheckpointFile file(dir_ / "malicious.bin"), hm::ModelError);
  // Through the model loader too, as pytorch_model.bin of a model folder.
  const auto folder = headscope::test::temp_dir() / "model";
  fs::create_directories(folder);
  fs::copy_file(dir_ / "gpt2-bin" / "config.json", folder / "config.json");
  fs::copy_file(dir_ / "malicious.bin", folder / "pytorch_model.bin");
  EXPECT_THROW(hm::Model::load(folder), hm::ModelError);
  EXPECT_FALSE(fs::exists(marker_)) << "the pickle's command ran";
}

TEST_F(TorchCheckpoint, LegacyFormatIsRefused) {
  EXPECT_THROW(hm::TorchCheckpointFile file(dir_ / "legacy.bin"), hm::ModelError);
}

// Every truncation of a real archive, and a compressed entry, an offset past the end and a missing
// storage entry, raise a ModelError (ASan builds also prove nothing is read out of bounds).
TEST_F(TorchCheckpoint, TruncatedOrInconsistentArchivesRaiseModelErrors) {
  const auto image = read_bytes(dir_ / "mixed.bin");
  ASSERT_NO_THROW(parse_image(image));
  for (std::size_t length = 0; length < image.size(); length += 1 + length / 64)
    EXPECT_THROW(parse_image(image.substr(0, length)), hm::ModelError) << "truncated to " << length;
  const auto central = image.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  auto compressed = image;
  compressed[central + 10] = 8;  // method: deflate
  EXPECT_THROW(parse_image(compressed), hm::ModelError);
  auto far_offset = image;
  for (int i = 0; i < 4; ++i) far_offset[central + 42 + static_cast<std::size_t>(i)] = '\x7f';  // local header offset
  EXPECT_THROW(parse_image(far_offset), hm::ModelError);
  auto missing = image;
  const auto entry_name = missing.find("mixed/data/0", central);  // the central entry of storage 0
  ASSERT_NE(entry_name, std::string::npos);
  missing[entry_name + 11] = 'x';
  EXPECT_THROW(parse_image(missing), hm::ModelError);
}

// Single-byte changes anywhere in the pickle: parsed or refused with a ModelError, never a crash.
TEST_F(TorchCheckpoint, MutatedPicklesParseOrRaiseModelErrors) {
  const auto image = read_bytes(dir_ / "mixed.bin");
  const auto pickle_begin = image.find("\x80\x02");
  ASSERT_NE(pickle_begin, std::string::npos);
  for (std::size_t at = pickle_begin; at < pickle_begin + 1043; ++at)
    for (unsigned char value : {0x00, 0x01, 0x7f, 0x80, 0xff, 0x28, 0x2e}) {
      auto mutated = image;
      mutated[at] = static_cast<char>(value);
      try {
        parse_image(mutated);
      } catch (const hm::ModelError&) {
      }
    }
}

// Found by fuzz_torch_pickle: a dict that holds itself (memo + SETITEM) made a shared_ptr cycle that
// leaked; the containers now live in the machine's arena, and flattening stops at a bounded depth.
TEST(TorchPickle, DictHoldingItselfIsRefusedWithoutHanging) {
  // EMPTY_DICT, BINPUT 0, 'a', BINGET 0, SETITEM, STOP: {'a': <itself>}
  const std::string pickle = std::string("\x80\x02}q\x00X\x01\x00\x00\x00" "a" "h\x00" "s.", 15);
  EXPECT_THROW(hm::read_state_dict_pickle(reinterpret_cast<const std::uint8_t*>(pickle.data()), pickle.size(), "self.pkl"),
               hm::ModelError);
  // A list that holds itself is no dict: parsed, nothing flattened from it.
  const std::string list = std::string("\x80\x02}q\x00X\x01\x00\x00\x00" "b" "]q\x01h\x01" "as.", 19);
  EXPECT_TRUE(hm::read_state_dict_pickle(reinterpret_cast<const std::uint8_t*>(list.data()), list.size(), "list.pkl").tensors.empty());
}

// The tiny HF models' weights as pytorch_model.bin (GPT-2 with a tied lm_head) and as two shards with
// pytorch_model.bin.index.json (Llama) load bitwise equal to their safetensors, and so do the logits.
TEST_F(TorchCheckpoint, TinyHfModelsLoadFromBinAsFromSafetensors) {
  c10::InferenceMode inference;
  const auto ids = at::arange(0, 12, at::kLong).unsqueeze(0);
  for (const auto& [bin_folder, safetensors_folder] :
       {std::pair{dir_ / "gpt2-bin", fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference" / "gpt2"},
        std::pair{dir_ / "llama-sharded", fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference" / "llama"}}) {
    SCOPED_TRACE(bin_folder.string());
    hm::LoadOptions options;
    options.threads = 1;
    auto from_bin = hm::Model::load(bin_folder, options);
    auto from_safetensors = hm::Model::load(safetensors_folder, options);
    const auto bin_parameters = from_bin->named_parameters();
    const auto safetensors_parameters = from_safetensors->named_parameters();
    ASSERT_EQ(bin_parameters.size(), safetensors_parameters.size());
    for (std::size_t i = 0; i < bin_parameters.size(); ++i) {
      EXPECT_EQ(bin_parameters[i].first, safetensors_parameters[i].first);
      EXPECT_TRUE(at::equal(bin_parameters[i].second, safetensors_parameters[i].second)) << bin_parameters[i].first;
    }
    EXPECT_TRUE(at::equal(from_bin->forward(ids).logits, from_safetensors->forward(ids).logits));
  }
}

// `headscope convert`: a file and a sharded folder become model.safetensors holding bitwise the tensors
// torch.load gives, the config is copied and the result loads; a malicious pickle fails, running nothing.
TEST_F(TorchCheckpoint, ConvertWritesSafetensorsWithTheSameTensors) {
  const auto out = headscope::test::temp_dir();
  const auto exe = headscope::test::headscope_exe().string();
  ASSERT_EQ(std::system((exe + " convert " + (dir_ / "mixed.bin").string() + " " + (out / "mixed").string() + " > /dev/null").c_str()), 0);
  hm::SafetensorsFile mixed(out / "mixed" / "model.safetensors");
  hm::TorchCheckpointFile original(dir_ / "mixed.bin");
  ASSERT_EQ(mixed.tensors().size(), original.tensors().size());
  for (const auto& info : original.tensors()) {
    const auto& converted = mixed.info(info.name);
    EXPECT_EQ(converted.dtype, info.dtype) << info.name;
    EXPECT_EQ(converted.shape, info.shape) << info.name;
    const auto bytes = original.contiguous_bytes(info);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()),
              std::string(reinterpret_cast<const char*>(mixed.data(converted)), converted.end - converted.begin))
        << info.name;
  }
  ASSERT_EQ(std::system((exe + " convert " + (dir_ / "llama-sharded").string() + " " + (out / "llama").string() + " > /dev/null").c_str()), 0);
  EXPECT_TRUE(fs::exists(out / "llama" / "config.json"));
  EXPECT_FALSE(fs::exists(out / "llama" / "pytorch_model.bin.index.json"));
  hm::LoadOptions options;
  options.threads = 1;
  auto converted = hm::Model::load(out / "llama", options);
  auto reference = hm::Model::load(fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference" / "llama", options);
  const auto converted_parameters = converted->named_parameters(), reference_parameters = reference->named_parameters();
  ASSERT_EQ(converted_parameters.size(), reference_parameters.size());
  for (std::size_t i = 0; i < converted_parameters.size(); ++i)
    EXPECT_TRUE(at::equal(converted_parameters[i].second, reference_parameters[i].second)) << converted_parameters[i].first;
  EXPECT_NE(std::system((exe + " convert " + (dir_ / "malicious.bin").string() + " " + (out / "bad").string() + " 2> /dev/null").c_str()), 0);
  EXPECT_FALSE(fs::exists(out / "bad" / "model.safetensors"));
  EXPECT_FALSE(fs::exists(marker_)) << "the pickle's command ran";
}

}  // namespace
