// The IB pipeline, once, for `headscope ib` and the tests: load step embeddings and labels
// (ib_input.h), smooth p(y|x) by embedding geometry (smoothing.h), anneal the soft IB with cluster
// splitting (anneal.h), agglomerate the final clusters for the elbow table (aib.h), summarise, and write
// the "ib" file (ib_store.h). An observer sees each stage as it finishes, so the CLI prints as it goes.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/anneal.h"
#include "core/analysis/ib/ib_input.h"
#include "core/analysis/ib/smoothing.h"
#include "core/analysis/ib/soft_ib.h"

namespace headscope::analysis::ib {

struct IbSettings {
  std::string embeddings_path, labels_path;  // as load_step_data takes them
  std::string out_path;                      // the "ib" file written
  bool overwrite = false;                    // replace an existing out_path (refused otherwise, before any work)
  std::string smoothing = "quantize";        // quantize or knn (parse_smoothing)
  SmoothingOptions smoothing_options;        // its method, seed and threads come from `smoothing` and `anneal`
  AnnealOptions anneal;
  std::string command_line;                  // written into the file
};

struct IbTransitionCounts {
  int splits = 0, reabsorbs = 0, merge_backs = 0, beta_steps_not_converged = 0;
};

struct IbRun {
  StepData data;                      // the input as read
  SmoothingOptions smoothing;         // as used
  SmoothedProblem smoothed;
  double info_xy = 0;                 // I(X;Y) of the smoothed problem, nats
  AnnealResult result;
  IbMeasures final_measures;          // of result.clustering
  std::vector<int> step_assignment;   // [N] final cluster of each step (hard)
  std::vector<ElbowRow> elbow;
  IbTransitionCounts counts;          // over result.history
};

struct IbObserver {
  std::function<void(const StepData&)> loaded;
  std::function<void(const SmoothedProblem&, const SmoothingOptions&, double info_xy)> smoothed;
  EventCallback transition;           // each split and reabsorption as the annealing meets it
  StepCallback beta_step;             // after each step of the β grid
};

// Throws (naming the file) on bad input; std::invalid_argument for an unknown smoothing.
IbRun run_ib(const IbSettings& settings, const IbObserver& observer = {});

}  // namespace headscope::analysis::ib
