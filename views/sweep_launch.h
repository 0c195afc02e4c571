// "Sweep this head" from the head drill-down: a sweep of the drilled head planned from what its run
// records — the model folder and the prompt set (or token shard) from the store's provenance, controls
// suggested as the two other heads of the target's layer closest to it in mean max attention over the
// run's samples (matched sharpness: a temperature-like intervention confounds unmatched controls), the default scales and a small max-samples default so the sweep finishes in seconds on
// the sample model — every field editable before Start. Torch-free: the workbench hands the plan to a
// child `headscope sweep` process (app/gui/sweep_control.h) and opens its result file live.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/commands/sweep_command.h"
#include "views/data/run_data.h"
#include "views/view_common.h"

namespace headscope::views {

// Where a run's samples and model came from, as its provenance records them ("" when not recorded).
struct RunSources {
  std::string model_dir;     // provenance.model_path
  std::string inputs_path;   // the prompt set (.jsonl) or token shard (.npz) the capture read
  std::string mode;          // "teacher_forced", "generate", "latent" (capture settings), or ""
  bool add_bos = true;
};
RunSources run_sources(const RunInfo& info);

struct SweepPlan {
  std::string model_dir;
  std::string prompts_path, shards_path;  // one of the two
  bool add_bos = true;
  store::HeadRef target;
  std::vector<store::HeadRef> controls;
  std::vector<double> scales;
  std::int64_t max_samples = 0;
  int threads = 1;  // CPU threads of the child: one runs a small model fastest on a busy machine, and leaves the UI a core
  std::vector<std::string> problems;  // each a plain sentence; non-empty: cannot start
  std::vector<std::string> notes;     // worth knowing, not blocking (e.g. the run generated; the sweep teacher-forces)
  bool ready() const { return problems.empty(); }
};

// The launcher's editable fields; refilled from the run whenever the drilled head or the run changes.
struct SweepLaunchState {
  std::string prepared_run;             // the run path and head the fields were filled for
  store::HeadRef prepared_head{-1, -1};
  std::string controls;                 // "L:H,L:H"
  std::string scales = "0.5,0.75,1,1.25,1.5";
  std::string model, inputs;
  int max_samples = 8;
  bool suggested = false;               // controls were filled from the run's summaries
  std::string status;                   // the last start's outcome, shown under the fields
};

// The `count` heads with the lowest mean max attention over samples (`max_attention`: [sample, layer,
// head] as RunData::summary gives it), other than the target: from its layer first, then the nearest
// layers. Empty when the summary holds no finite value.
std::vector<store::HeadRef> suggest_sweep_controls(const RunInfo& info, const std::vector<float>& max_attention,
                                                   store::HeadRef target, int count = 2);

// The plan from the fields, checked: model folder, inputs, heads inside the run's shape, scales, samples.
SweepPlan plan_sweep(const RunInfo& info, store::HeadRef target, const SweepLaunchState& state);
// The child's `headscope sweep` options from the plan (no --out: the launcher names the file); render
// them with commands::to_arguments.
commands::SweepCommand sweep_command(const SweepPlan& plan);

// Fills the fields for `target` of the run (when either changed, or the controls still wait for the
// summaries). Returns true once the controls are filled.
bool prepare_sweep_launch(ViewContext& context, SweepLaunchState& state);

// Screen only: the "Sweep this head" button and its popup of fields, problems and Start. `why_not`
// non-empty: this build cannot run sweeps, said in the popup. Returns true, with the plan, on Start.
bool sweep_launch_controls(ViewContext& context, SweepLaunchState& state, const std::string& why_not, SweepPlan* plan);

}  // namespace headscope::views
