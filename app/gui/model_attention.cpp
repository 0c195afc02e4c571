// make_model_attention_source (see model_attention.h): one AttentionRecomputer per model folder, kept
// for the session; the store is opened read-only for the sample's tokens.
#include "app/gui/model_attention.h"

#include <map>
#include <mutex>

#include "core/store/reader.h"
#ifdef HEADSCOPE_HAS_TORCH
#include "capture/session/recompute.h"
#endif

namespace headscope::app {

std::unique_ptr<views::AttentionSource> make_model_attention_source() {
#ifdef HEADSCOPE_HAS_TORCH
  auto models = std::make_shared<std::map<std::string, std::unique_ptr<capture::AttentionRecomputer>>>();
  return std::make_unique<views::QueuedAttentionSource>([models](const views::AttentionRequest& request) {
    views::AttentionResult result;
    result.request = request;
    auto reader = store::StoreReader::open(request.run_path);
    const std::string model = reader->provenance().model_path;
    if (model.empty())
      throw std::runtime_error("no attention matrices in this run, and it records no model to recompute them from");
    auto& recomputer = (*models)[model];
    if (!recomputer) recomputer = std::make_unique<capture::AttentionRecomputer>(model, "cpu", "auto", 1);
    const auto tokens = reader->tokens(request.sample);
    result.token_count = static_cast<int>(tokens.size());
    result.values = recomputer->head_attention(tokens, request.head);
    return result;
  });
#else
  return std::make_unique<views::NoModelAttentionSource>("this build has no capture engine (HEADSCOPE_WITH_TORCH=OFF)");
#endif
}

}  // namespace headscope::app
