// Interventions inside the forward pass, per (layer, head): scale the head's pre-RoPE query, scale the
// keys it sees, or replace its output (before the output projection) by zero or by a given mean.
// Each applies to that query head alone, including under GQA, where a key/value head is shared: the
// key scale multiplies that head's scores (q·(s k) = s (q·k)), never the shared cached key. Torch-free,
// so the CLI and the app can build sweeps. The forward pass checks every list (check_interventions).
#pragma once
#include <vector>

#include "capture/model/model_error.h"

namespace headscope::model {

enum class OutputAblation { none, zero, mean };

struct HeadIntervention {
  int layer = 0;
  int head = 0;  // query head
  double query_scale = 1.0;  // multiplies q_pre (the q_pre probe shows the scaled query)
  double key_scale = 1.0;    // multiplies the keys as this head sees them (post- and pre-RoPE alike)
  OutputAblation output = OutputAblation::none;
  std::vector<float> mean_output;  // [head_dim], the replacement for OutputAblation::mean
};

struct Interventions {
  std::vector<HeadIntervention> heads;
  bool empty() const { return heads.empty(); }
};

struct ModelConfig;
// Throws ModelError when an intervention names a layer or head outside `config`, a scale that is not a
// finite number > 0, or a mean output whose size is not head_dim. Run by every forward pass.
void check_interventions(const Interventions& interventions, const ModelConfig& config);

}  // namespace headscope::model
