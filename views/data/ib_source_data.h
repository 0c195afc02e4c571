// The capture store behind an IB result file, for the ib-cluster view. Opened on first use: the store's
// path as the IB run recorded it (absolute), else the recorded relative path from the ib file's folder;
// then the steps' text, sample id and level are read once, and a per-head profile of a metric over the
// clusters' steps is computed once per metric. With `background` (the window) that work runs on a thread
// of its own and every call returns at once, with a "loading" state or a null profile until the result
// is there; without it (export, tests) calls do the work before returning. Results are immutable and
// shared, so a frame never holds a lock while drawing.
#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/analysis/ib/cluster_heads.h"
#include "core/analysis/ib/ib_source.h"
#include "views/data/result_files.h"

namespace headscope::store { class StoreReader; }

namespace headscope::views {

class IbSourceData {
 public:
  enum class Status { no_source, loading, failed, ready };
  struct State {
    Status status = Status::loading;
    std::string message;                     // no_source / failed: why, in plain words
    std::string store_path;                  // the store opened
    std::vector<std::string> metrics;        // per-token metrics the store holds, in its order
    std::vector<std::string> metric_units;   // [metric]
    int layer_count = 0, head_count = 0;
    std::shared_ptr<const analysis::ib::SourceSteps> steps;  // ready: text, sample id, level of each step
  };
  using SharedProfile = std::shared_ptr<const analysis::ib::ClusterHeadProfile>;

  IbSourceData(std::shared_ptr<const IbData> ib, bool background);
  ~IbSourceData();
  IbSourceData(const IbSourceData&) = delete;
  IbSourceData& operator=(const IbSourceData&) = delete;

  State state();
  // The profile of `metric` over the run's clusters, or null: still being computed (background), or it
  // failed (then *error, when given, says why).
  SharedProfile profile(const std::string& metric, std::string* error = nullptr);

 private:
  void start();                        // resolves and opens the store, reads the steps (once)
  void compute(const std::string& metric);
  void serve();                        // the background thread

  std::shared_ptr<const IbData> ib_;
  const bool background_;
  std::unique_ptr<store::StoreReader> reader_;  // the worker's (the caller's without background)
  std::mutex mutex_;                            // guards everything below
  std::condition_variable wake_;
  bool started_ = false, stop_ = false;
  State state_;
  std::map<std::string, SharedProfile> profiles_;
  std::map<std::string, std::string> profile_errors_;
  std::vector<std::string> requests_;           // metrics asked for, not computed yet
  std::thread worker_;
};

}  // namespace headscope::views
