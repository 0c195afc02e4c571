// LiveRunData: RunData for the window. A background thread owns the StoreReader: it opens the file,
// polls refresh() (a capture in this or another process may still be writing), serves the reads views
// ask for, and publishes each result as a new immutable snapshot. The UI thread calls begin_frame() once
// per frame to take the latest snapshot (a pointer copy under a mutex) and then reads only that snapshot:
// no lock is held while drawing and the UI never waits on the file.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <chrono>
#include <thread>

#include "views/data/run_data.h"

namespace headscope::views {

class LiveRunData : public RunData {
 public:
  // Starts the background thread; `poll_interval_ms` is how often a live file is refreshed.
  explicit LiveRunData(std::string path, int poll_interval_ms = 250);
  ~LiveRunData() override;
  LiveRunData(const LiveRunData&) = delete;
  LiveRunData& operator=(const LiveRunData&) = delete;

  // Takes the latest published snapshot; returns true when it differs from the previous frame's.
  bool begin_frame();
  // Requested reads not served yet (for a "loading" indicator and tests).
  std::size_t pending_requests() const;
  // Blocks until nothing is pending and the file is opened (tests and headless benches only).
  void wait_idle();

  const RunInfo& info() const override { return frame_->info; }
  SharedFloats summary(const std::string& metric) override;
  SharedFloats layer_slice(const std::string& metric, std::int64_t sample, int layer) override;
  SharedFloats head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) override;
  SharedFloats model_trace(const std::string& metric, std::int64_t sample) override;
  SharedStrings token_text(std::int64_t sample) override;
  SharedPinned pinned_attention(std::int64_t sample, store::HeadRef head) override;
  SharedAnalysis analysis() override;
  SharedHeartbeats heartbeats(const analysis::HeartbeatOptions& options) override;
  SharedFloats flow_mean(const std::vector<std::int64_t>& samples) override;

 private:
  struct Snapshot {
    RunInfo info;
    std::map<RunRead, SharedFloats> floats;
    std::map<std::int64_t, SharedStrings> texts;
    std::map<RunRead, SharedPinned> pinned;
    SharedAnalysis analysis;
    std::uint64_t analysis_generation = 0;  // info.generation the analysis was computed at
    std::map<RunRead, std::pair<SharedHeartbeats, std::uint64_t>> heartbeats;  // with the generation computed at
    std::uint64_t version = 0;
  };
  SharedFloats lookup_floats(const RunRead& read);
  void request(const RunRead& read);  // a read already queued is not queued twice
  static void serve(const store::StoreReader& reader, const RunRead& read, Snapshot& next);
  void run_worker();
  void publish(std::shared_ptr<const Snapshot> snapshot);

  const std::string path_;
  const int poll_interval_ms_;
  std::shared_ptr<const Snapshot> frame_;  // UI thread only
  std::chrono::steady_clock::time_point analysis_requested_;  // UI thread only: throttles recomputation
  std::chrono::steady_clock::time_point heartbeats_requested_;  // UI thread only: the same for heartbeats

  mutable std::mutex mutex_;                 // guards latest_, requests_, stop_, busy_
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::shared_ptr<const Snapshot> latest_;
  std::deque<RunRead> requests_;
  bool stop_ = false;
  bool busy_ = false;
  std::thread worker_;
};

}  // namespace headscope::views
