// The workbench's AttentionSource: with the capture engine built in, a head that was not pinned is
// recomputed from the run's own model (its folder as recorded in the store), off the UI thread; without
// it, the view says why it cannot.
#pragma once
#include <memory>

#include "views/data/attention_source.h"

namespace headscope::app {

std::unique_ptr<views::AttentionSource> make_model_attention_source();

}  // namespace headscope::app
