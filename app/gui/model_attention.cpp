// make_model_attention_source (see model_attention.h): one AttentionRecomputer per model folder, kept
// for the session; the store is opened read-only for the sample's tokens. Tile requests (level >= 0) are
// served from the recomputer's cached queries and keys, reduced to the tile's cells.
#include "app/gui/model_attention.h"

#include <map>
#include <mutex>

#include "core/store/attention_mode.h"
#include "core/store/reader.h"
#include "views/data/attention_tiles.h"
#ifdef HEADSCOPE_HAS_TORCH
#include "capture/session/recompute.h"
#endif

namespace headscope::app {

std::unique_ptr<views::AttentionSource> make_model_attention_source() {
#ifdef HEADSCOPE_HAS_TORCH
  auto models = std::make_shared<std::map<std::string, std::unique_ptr<capture::AttentionRecomputer>>>();
  // What the worker is doing, for the view's progress line (read from the UI thread).
  struct Progress {
    std::mutex mutex;
    std::string text;
  };
  auto progress = std::make_shared<Progress>();
  auto set_progress = [progress](std::string text) {
    std::lock_guard<std::mutex> lock(progress->mutex);
    progress->text = std::move(text);
  };
  auto compute = [models, set_progress](const views::AttentionRequest& request) {
    views::AttentionResult result;
    result.request = request;
    // What the recompute needs from the run, read and released at once: a reader left open through a model
    // load would hold a live master's shards with metadata that the live view's next reopen then shares.
    std::string model;
    std::vector<std::int32_t> tokens;
    bool pre_rope = false;  // the run measured pre-RoPE attention (`capture --attention pre-rope`): recompute that
    {
      auto reader = store::StoreReader::open(request.run_path);
      model = reader->provenance().model_path;
      pre_rope = reader->provenance().settings.attention == store::attention_mode_name(store::AttentionMode::pre_rope);
      tokens = reader->tokens(request.sample);
    }
    if (model.empty())
      throw std::runtime_error("no attention matrices in this run, and it records no model to recompute them from");
    auto& recomputer = (*models)[model];
    if (!recomputer) {
      set_progress("loading the model " + model + " …");
      recomputer = std::make_unique<capture::AttentionRecomputer>(model, "cpu", "auto", 1);
    }
    result.token_count = static_cast<int>(tokens.size());
    if (request.level < 0) {
      set_progress("recomputing " + store::head_name(request.head) + " …");
      result.values = recomputer->head_attention(tokens, request.head, pre_rope);
      result.rows = result.cols = result.token_count;
    } else {
      const views::AttentionTileSpec spec = views::attention_tile(result.token_count, request.level, request.tile_row, request.tile_col);
      set_progress(recomputer->has_cached_sequence(tokens, pre_rope)
                       ? "recomputing " + store::head_name(request.head) + " …"
                       : "running the model once over sample " + std::to_string(request.sample) + "'s " +
                             std::to_string(tokens.size()) + " tokens (later heads and tiles reuse it) …");
      const auto block = recomputer->head_attention_tile(tokens, request.head, spec.rows(), spec.key_begin, spec.key_end, pre_rope);
      result.values = views::reduce_tile_keys(spec, block);
      result.rows = spec.row_count;
      result.cols = spec.key_bins();
    }
    set_progress("");
    return result;
  };
  auto status = [progress] {
    std::lock_guard<std::mutex> lock(progress->mutex);
    return progress->text;
  };
  return std::make_unique<views::QueuedAttentionSource>(compute, status);
#else
  return std::make_unique<views::NoModelAttentionSource>("this build has no capture engine (HEADSCOPE_WITH_TORCH=OFF)");
#endif
}

}  // namespace headscope::app
