// SentencePieceTokenizer: a thin, checked wrapper over libsentencepiece, reached through the dlopen()ed
// shim of spm_shim/spm_shim.h (loaded once per process, RTLD_LOCAL | RTLD_DEEPBIND).
#include "capture/tokenizer/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include "capture/tokenizer/spm_shim/spm_shim.h"
#include "capture/tokenizer/text_utf8.h"

namespace headscope::tokenizer {

namespace {

const std::string kMetaspace = "\xE2\x96\x81";

// AddressSanitizer refuses RTLD_DEEPBIND (it would bypass the sanitizer's interceptors) and aborts the
// process. Sanitizer builds are torch-free test builds with no second protobuf to hide from, so they
// open the shim without it.
#if defined(__SANITIZE_ADDRESS__)
#define HEADSCOPE_SPM_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEADSCOPE_SPM_UNDER_ASAN 1
#endif
#endif
#ifdef HEADSCOPE_SPM_UNDER_ASAN
constexpr int kShimOpenFlags = RTLD_NOW | RTLD_LOCAL;
#else
constexpr int kShimOpenFlags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif

// The shim's entry points, resolved once.
struct Shim {
  decltype(&hs_spm_load) load = nullptr;
  decltype(&hs_spm_release) release = nullptr;
  decltype(&hs_spm_free) free = nullptr;
  decltype(&hs_spm_piece_count) piece_count = nullptr;
  decltype(&hs_spm_bos_id) bos_id = nullptr;
  decltype(&hs_spm_eos_id) eos_id = nullptr;
  decltype(&hs_spm_encode) encode = nullptr;
  decltype(&hs_spm_decode) decode = nullptr;
  decltype(&hs_spm_piece) piece = nullptr;
  decltype(&hs_spm_is_byte) is_byte = nullptr;
  decltype(&hs_spm_is_control) is_control = nullptr;
  decltype(&hs_spm_is_unknown) is_unknown = nullptr;
  std::string error;  // why it could not be loaded
};

std::vector<std::string> shim_candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("HEADSCOPE_SPM_SHIM")) paths.push_back(env);
#ifdef HEADSCOPE_SPM_SHIM_PATH
  paths.push_back(HEADSCOPE_SPM_SHIM_PATH);
#endif
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) paths.push_back((exe.parent_path() / "libheadscope_spm_shim.so").string());
  paths.push_back("libheadscope_spm_shim.so");
  return paths;
}

const Shim& shim() {
  static Shim loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = nullptr;
    for (const auto& path : shim_candidates()) {
      handle = dlopen(path.c_str(), kShimOpenFlags);
      if (handle) break;
      loaded.error += std::string("\n  ") + dlerror();
    }
    if (!handle) return;
    loaded.error.clear();  // an earlier candidate failing does not matter once one has opened
    auto resolve = [&](auto& slot, const char* name) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(handle, name));
      if (!slot) loaded.error += std::string("\n  missing symbol ") + name;
    };
    resolve(loaded.load, "hs_spm_load");
    resolve(loaded.release, "hs_spm_release");
    resolve(loaded.free, "hs_spm_free");
    resolve(loaded.piece_count, "hs_spm_piece_count");
    resolve(loaded.bos_id, "hs_spm_bos_id");
    resolve(loaded.eos_id, "hs_spm_eos_id");
    resolve(loaded.encode, "hs_spm_encode");
    resolve(loaded.decode, "hs_spm_decode");
    resolve(loaded.piece, "hs_spm_piece");
    resolve(loaded.is_byte, "hs_spm_is_byte");
    resolve(loaded.is_control, "hs_spm_is_control");
    resolve(loaded.is_unknown, "hs_spm_is_unknown");
    if (!loaded.error.empty()) loaded.load = nullptr;
  });
  return loaded;
}

// Takes ownership of a malloc'd message from the shim.
std::string take_message(char* message) {
  std::string text = message ? message : "unknown error";
  if (message) shim().free(message);
  return text;
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path, bool add_bos, bool add_eos)
    : path_(path), add_bos_(add_bos), add_eos_(add_eos) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw TokenizerError(path + ": cannot open the SentencePiece model");
  const std::string serialized((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (serialized.empty()) throw TokenizerError(path + ": the SentencePiece model file is empty");
  if (!shim().load)
    throw TokenizerError(path + ": cannot load libheadscope_spm_shim.so, which reads SentencePiece models:" + shim().error);
  char* error = nullptr;
  model_ = shim().load(serialized.data(), serialized.size(), &error);
  if (!model_) throw TokenizerError(path + ": not a valid SentencePiece model: " + take_message(error));
  if (shim().piece_count(model_) <= 0) {
    shim().release(model_);
    model_ = nullptr;
    throw TokenizerError(path + ": the SentencePiece model has no pieces");
  }
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (model_) shim().release(model_);
}

std::vector<std::int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_specials) const {
  const std::string valid_text = utf8::replace_invalid(text);
  std::int32_t* pieces = nullptr;
  std::size_t count = 0;
  char* error = nullptr;
  if (shim().encode(model_, valid_text.data(), valid_text.size(), &pieces, &count, &error) != 0)
    throw TokenizerError(path_ + ": SentencePiece could not encode the text: " + take_message(error));
  std::vector<std::int32_t> ids;
  ids.reserve(count + 2);
  const std::int32_t bos = shim().bos_id(model_), eos = shim().eos_id(model_);
  if (add_specials && add_bos_ && bos >= 0) ids.push_back(bos);
  ids.insert(ids.end(), pieces, pieces + count);
  shim().free(pieces);
  if (add_specials && add_eos_ && eos >= 0) ids.push_back(eos);
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int32_t>& ids) const {
  std::vector<std::int32_t> known;
  known.reserve(ids.size());
  for (std::int32_t id : ids)
    if (id >= 0 && id < shim().piece_count(model_)) known.push_back(id);
  char* text = nullptr;
  std::size_t size = 0;
  char* error = nullptr;
  if (shim().decode(model_, known.data(), known.size(), &text, &size, &error) != 0)
    throw TokenizerError(path_ + ": SentencePiece could not decode: " + take_message(error));
  std::string out(text, size);
  shim().free(text);
  return utf8::replace_invalid(out);
}

std::string SentencePieceTokenizer::token_text(std::int32_t id) const {
  if (id < 0 || id >= shim().piece_count(model_)) throw TokenizerError(path_ + ": no token has id " + std::to_string(id));
  const std::string piece = take_message(shim().piece(model_, id));
  if (shim().is_byte(model_, id) && piece.size() == 6 && piece.compare(0, 3, "<0x") == 0) {  // "<0xE2>"
    const std::string hex_digits = piece.substr(3, 2);  // outlives `end`, which points into it
    char* end = nullptr;
    const long value = std::strtol(hex_digits.c_str(), &end, 16);
    if (end == hex_digits.c_str() + hex_digits.size() && value >= 0 && value < 256)
      return utf8::escape_invalid(std::string(1, static_cast<char>(value)));
  }
  if (shim().is_control(model_, id) || shim().is_unknown(model_, id)) return piece;
  std::string text;
  for (std::size_t found = 0, copied = 0;; copied = found + kMetaspace.size()) {
    found = piece.find(kMetaspace, copied);
    text.append(piece, copied, found == std::string::npos ? std::string::npos : found - copied);
    if (found == std::string::npos) break;
    text += ' ';
  }
  return utf8::escape_invalid(text);
}

std::int64_t SentencePieceTokenizer::vocab_size() const { return shim().piece_count(model_); }

std::optional<std::int32_t> SentencePieceTokenizer::bos_id() const {
  const std::int32_t id = shim().bos_id(model_);
  return id >= 0 ? std::optional<std::int32_t>(id) : std::nullopt;
}

std::optional<std::int32_t> SentencePieceTokenizer::eos_id() const {
  const std::int32_t id = shim().eos_id(model_);
  return id >= 0 ? std::optional<std::int32_t>(id) : std::nullopt;
}

}  // namespace headscope::tokenizer
