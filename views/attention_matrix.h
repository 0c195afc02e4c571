// Attention matrix: the selected head's full attention [query, key] for the selected sample, as one
// texture with token text on both axes. Stored if the run pinned the head; otherwise asked of the
// AttentionSource (recomputed off the UI thread by the model) under the tag "attention-matrix", so
// scrubbing heads replaces queued requests; without a model the view says what it would need.
#pragma once
#include <string>

#include "views/plot/plot.h"
#include "views/view_common.h"

namespace headscope::views {

struct AttentionMatrixState {
  plot::ColormapId colormap = plot::ColormapId::magma;
  // Colour range [0, the 99.5th percentile of the causal entries] instead of [0, 1]: a few large weights
  // (an attention sink) would otherwise leave every other entry black.
  bool scale_to_percentile = true;
  plot::PlotState plot;
  std::uint64_t percentile_serial = 0;  // cache of the percentile for the values drawn
  double percentile_value = 1;
};

inline constexpr const char* kAttentionMatrixTag = "attention-matrix";

void attention_matrix_controls(AttentionMatrixState& state);
std::string attention_matrix_title(ViewContext& context, AttentionMatrixState& state);
void draw_attention_matrix(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, AttentionMatrixState& state);

}  // namespace headscope::views
