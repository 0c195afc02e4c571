// libheadscope_spm_shim.so: the C interface of spm_shim.h over sentencepiece::SentencePieceProcessor.
// Loaded with dlopen by capture/tokenizer/sentencepiece_tokenizer.cpp (see spm_shim.h for why).
#include "capture/tokenizer/spm_shim/spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct hs_spm_model {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

char* copy_string(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

}  // namespace

extern "C" {

hs_spm_model* hs_spm_load(const char* bytes, size_t size, char** error) {
  auto* model = new hs_spm_model;
  const auto status = model->processor.LoadFromSerializedProto(std::string(bytes, size));
  if (!status.ok()) {
    if (error) *error = copy_string(status.ToString());
    delete model;
    return nullptr;
  }
  return model;
}

void hs_spm_release(hs_spm_model* model) { delete model; }
void hs_spm_free(void* buffer) { std::free(buffer); }

int32_t hs_spm_piece_count(const hs_spm_model* model) { return model->processor.GetPieceSize(); }
int32_t hs_spm_bos_id(const hs_spm_model* model) { return model->processor.bos_id(); }
int32_t hs_spm_eos_id(const hs_spm_model* model) { return model->processor.eos_id(); }

int hs_spm_encode(const hs_spm_model* model, const char* text, size_t size, int32_t** ids, size_t* count, char** error) {
  std::vector<int> pieces;
  const auto status = model->processor.Encode(std::string(text, size), &pieces);
  if (!status.ok()) {
    if (error) *error = copy_string(status.ToString());
    return 1;
  }
  *count = pieces.size();
  *ids = static_cast<int32_t*>(std::malloc(pieces.size() * sizeof(int32_t) + 1));
  for (size_t i = 0; i < pieces.size(); ++i) (*ids)[i] = pieces[i];
  return 0;
}

int hs_spm_decode(const hs_spm_model* model, const int32_t* ids, size_t count, char** text, size_t* size, char** error) {
  std::vector<int> pieces(ids, ids + count);
  std::string out;
  const auto status = model->processor.Decode(pieces, &out);
  if (!status.ok()) {
    if (error) *error = copy_string(status.ToString());
    return 1;
  }
  *size = out.size();
  *text = copy_string(out);
  return 0;
}

char* hs_spm_piece(const hs_spm_model* model, int32_t id) { return copy_string(model->processor.IdToPiece(id)); }
int hs_spm_is_byte(const hs_spm_model* model, int32_t id) { return model->processor.IsByte(id) ? 1 : 0; }
int hs_spm_is_control(const hs_spm_model* model, int32_t id) { return model->processor.IsControl(id) ? 1 : 0; }
int hs_spm_is_unknown(const hs_spm_model* model, int32_t id) { return model->processor.IsUnknown(id) ? 1 : 0; }

}  // extern "C"
