// SentencePieceTokenizer: a thin, checked wrapper over sentencepiece::SentencePieceProcessor.
#include "capture/tokenizer/sentencepiece_tokenizer.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <sentencepiece_processor.h>

#include "capture/tokenizer/text_utf8.h"

namespace headscope::tokenizer {

namespace {
const std::string kMetaspace = "\xE2\x96\x81";
}

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path, bool add_bos, bool add_eos)
    : path_(path), processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()), add_bos_(add_bos),
      add_eos_(add_eos) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw TokenizerError(path + ": cannot open the SentencePiece model");
  const std::string serialized((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (serialized.empty()) throw TokenizerError(path + ": the SentencePiece model file is empty");
  const auto status = processor_->LoadFromSerializedProto(serialized);
  if (!status.ok()) throw TokenizerError(path + ": not a valid SentencePiece model: " + status.ToString());
  if (processor_->GetPieceSize() <= 0) throw TokenizerError(path + ": the SentencePiece model has no pieces");
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<std::int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_specials) const {
  const std::string valid_text = utf8::replace_invalid(text);
  std::vector<int> pieces;
  const auto status = processor_->Encode(valid_text, &pieces);
  if (!status.ok()) throw TokenizerError(path_ + ": SentencePiece could not encode the text: " + status.ToString());
  std::vector<std::int32_t> ids;
  ids.reserve(pieces.size() + 2);
  if (add_specials && add_bos_ && processor_->bos_id() >= 0) ids.push_back(processor_->bos_id());
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  if (add_specials && add_eos_ && processor_->eos_id() >= 0) ids.push_back(processor_->eos_id());
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int32_t>& ids) const {
  std::vector<int> known;
  known.reserve(ids.size());
  for (std::int32_t id : ids)
    if (id >= 0 && id < processor_->GetPieceSize()) known.push_back(id);
  std::string text;
  const auto status = processor_->Decode(known, &text);
  if (!status.ok()) throw TokenizerError(path_ + ": SentencePiece could not decode: " + status.ToString());
  return utf8::replace_invalid(text);
}

std::string SentencePieceTokenizer::token_text(std::int32_t id) const {
  if (id < 0 || id >= processor_->GetPieceSize()) throw TokenizerError(path_ + ": no token has id " + std::to_string(id));
  const std::string piece = processor_->IdToPiece(id);
  if (processor_->IsByte(id) && piece.size() == 6 && piece.compare(0, 3, "<0x") == 0) {  // "<0xE2>"
    char* end = nullptr;
    const long value = std::strtol(piece.substr(3, 2).c_str(), &end, 16);
    if (end != nullptr && *end == '\0' && value >= 0 && value < 256)
      return utf8::escape_invalid(std::string(1, static_cast<char>(value)));
  }
  if (processor_->IsControl(id) || processor_->IsUnknown(id)) return piece;
  std::string text;
  for (std::size_t found = 0, copied = 0;; copied = found + kMetaspace.size()) {
    found = piece.find(kMetaspace, copied);
    text.append(piece, copied, found == std::string::npos ? std::string::npos : found - copied);
    if (found == std::string::npos) break;
    text += ' ';
  }
  return utf8::escape_invalid(text);
}

std::int64_t SentencePieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }

std::optional<std::int32_t> SentencePieceTokenizer::bos_id() const {
  return processor_->bos_id() >= 0 ? std::optional<std::int32_t>(processor_->bos_id()) : std::nullopt;
}

std::optional<std::int32_t> SentencePieceTokenizer::eos_id() const {
  return processor_->eos_id() >= 0 ? std::optional<std::int32_t>(processor_->eos_id()) : std::nullopt;
}

}  // namespace headscope::tokenizer
