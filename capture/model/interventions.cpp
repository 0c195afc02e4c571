// Validation of per-head interventions against a model's shape (see interventions.h): a head or layer
// outside the model, a scale that is not a positive finite number, or a mean replacement of the wrong
// width is a ModelError naming the intervention, never an out-of-bounds write or a silent no-op.
#include <cmath>
#include <string>

#include "capture/model/config.h"
#include "capture/model/interventions.h"

namespace headscope::model {

void check_interventions(const Interventions& interventions, const ModelConfig& config) {
  for (const auto& edit : interventions.heads) {
    const std::string name = "intervention on layer " + std::to_string(edit.layer) + " head " + std::to_string(edit.head);
    if (edit.layer < 0 || edit.layer >= config.layer_count)
      throw ModelError(name + ": layer out of range (the model has " + std::to_string(config.layer_count) + " layers)");
    if (edit.head < 0 || edit.head >= config.head_count)
      throw ModelError(name + ": head out of range (the model has " + std::to_string(config.head_count) +
                       " query heads per layer)");
    if (!(edit.query_scale > 0) || !std::isfinite(edit.query_scale))
      throw ModelError(name + ": query scale " + std::to_string(edit.query_scale) + " must be a finite number > 0");
    if (!(edit.key_scale > 0) || !std::isfinite(edit.key_scale))
      throw ModelError(name + ": key scale " + std::to_string(edit.key_scale) + " must be a finite number > 0");
    if (edit.output == OutputAblation::mean && static_cast<int>(edit.mean_output.size()) != config.head_dim)
      throw ModelError(name + ": mean ablation needs a mean output of " + std::to_string(config.head_dim) +
                       " values (head_dim), got " + std::to_string(edit.mean_output.size()));
  }
}

}  // namespace headscope::model
