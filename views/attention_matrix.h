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
  bool scale_to_max = true;  // colour range [0, max] instead of [0, 1]
  plot::PlotState plot;
};

inline constexpr const char* kAttentionMatrixTag = "attention-matrix";

void attention_matrix_controls(AttentionMatrixState& state);
std::string attention_matrix_title(ViewContext& context, AttentionMatrixState& state);
void draw_attention_matrix(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, AttentionMatrixState& state);

}  // namespace headscope::views
