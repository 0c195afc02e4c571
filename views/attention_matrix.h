// Attention matrix: the selected head's attention [query, key] for the selected sample, with token text
// on both axes. Stored if the run pinned the head (one texture); otherwise asked of the AttentionSource
// (recomputed off the UI thread by the model) tile by tile (views/data/attention_tiles.h): only the
// visible tiles at the zoom level whose cells are about a pixel, one request at a time under the tag
// "attention-matrix" (scrubbing heads replaces queued requests), finished tiles kept in a small LRU
// cache. Never the full S×S. Without a model the view says what it would need.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <tuple>

#include "views/plot/plot.h"
#include "views/data/attention_source.h"
#include "views/view_common.h"

namespace headscope::views {

// Finished tiles by (run, sample, head, level, tile row, tile col), least recently drawn evicted first.
class AttentionTileCache {
 public:
  explicit AttentionTileCache(std::size_t capacity = 96) : capacity_(capacity) {}
  std::shared_ptr<const AttentionResult> find(const AttentionRequest& request);  // marks it recently used
  void insert(std::shared_ptr<const AttentionResult> tile);
  std::size_t size() const { return tiles_.size(); }

 private:
  std::size_t capacity_;
  std::list<std::shared_ptr<const AttentionResult>> tiles_;  // most recently used first
};

struct AttentionMatrixState {
  plot::ColormapId colormap = plot::ColormapId::magma;
  // Colour range [0, the 99.5th percentile of the causal entries] instead of [0, 1]: a few large weights
  // (an attention sink) would otherwise leave every other entry black.
  bool scale_to_percentile = true;
  plot::PlotState plot;
  std::uint64_t percentile_serial = 0;  // cache of the percentile for the values drawn
  double percentile_value = 1;
  AttentionTileCache tiles;
  AttentionRequest last_requested;   // the tile asked for last
  std::int64_t requested_cells = 0;  // tile cells asked of the source so far (the view's cost; tests)
};

inline constexpr const char* kAttentionMatrixTag = "attention-matrix";

void attention_matrix_controls(AttentionMatrixState& state);
std::string attention_matrix_title(ViewContext& context, AttentionMatrixState& state);
void draw_attention_matrix(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, AttentionMatrixState& state);

}  // namespace headscope::views
