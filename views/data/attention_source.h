// AttentionSource: where the attention-matrix view gets a head's full attention when the run did not pin
// it — recomputed by the model, off the UI thread. Requests go through a RenderDoc-style queue: a newer
// request with the same tag replaces a queued older one, so scrubbing through heads asks the model only
// for the one the user stopped on. The capture engine plugs in a compute function
// (QueuedAttentionSource); without a model, NoModelAttentionSource says why nothing can be shown.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/store/layout.h"

namespace headscope::views {

struct AttentionRequest {
  std::string tag;            // who asks ("attention-matrix"): a newer request with this tag replaces older ones
  std::string run_path;       // the store whose sample is meant (its model and tokens)
  std::int64_t sample = 0;
  store::HeadRef head;
  // level >= 0: one tile of the matrix at that zoom level (attention_tiles.h), never the full S×S;
  // level -1: the full [query, key] matrix (short samples, tests).
  int level = -1;
  int tile_row = 0, tile_col = 0;
  bool operator==(const AttentionRequest& o) const {
    return tag == o.tag && run_path == o.run_path && sample == o.sample && head == o.head && level == o.level &&
           tile_row == o.tile_row && tile_col == o.tile_col;
  }
};

struct AttentionResult {
  AttentionRequest request;
  int token_count = 0;
  int rows = 0, cols = 0;     // the shape of `values`: token_count² for the full matrix, a tile's otherwise
  std::vector<float> values;  // [rows, cols]: [query, key], or a tile (attention_tiles.h)
  std::string error;          // non-empty: the computation failed, with the reason
  std::uint64_t serial = 0;
};

class AttentionSource {
 public:
  virtual ~AttentionSource() = default;
  // False when nothing can recompute attention (no model loaded); reason() says why.
  virtual bool available() const = 0;
  virtual std::string reason() const = 0;
  // Never blocks; replaces a queued, not yet started request with the same tag.
  virtual void request(const AttentionRequest& request) = 0;
  // The newest finished result for `tag` (null if none yet). It may answer an older request: compare.
  virtual std::shared_ptr<const AttentionResult> latest(const std::string& tag) const = 0;
  // True while a request with `tag` is queued or being computed.
  virtual bool busy(const std::string& tag) const = 0;
  // What the source is doing for `tag` while busy, for a progress line ("running the model over …"); "".
  virtual std::string status(const std::string&) const { return {}; }
};

class NoModelAttentionSource : public AttentionSource {
 public:
  explicit NoModelAttentionSource(std::string why = "recomputing attention needs the run's model, and none is loaded")
      : why_(std::move(why)) {}
  bool available() const override { return false; }
  std::string reason() const override { return why_; }
  void request(const AttentionRequest&) override {}
  std::shared_ptr<const AttentionResult> latest(const std::string&) const override { return nullptr; }
  bool busy(const std::string&) const override { return false; }

 private:
  std::string why_;
};

// The request queue on its own: push() replaces a queued entry with the same tag; pop() takes the oldest.
class LatestRequestQueue {
 public:
  void push(const AttentionRequest& request);  // returns at once
  bool pop(AttentionRequest* out);             // false when empty
  bool contains(const std::string& tag) const;
  std::size_t size() const { return queue_.size(); }

 private:
  std::deque<AttentionRequest> queue_;
};

// Serves requests on one background thread with a compute function the capture engine provides
// (it runs the model; it may throw, and the message becomes the result's error).
class QueuedAttentionSource : public AttentionSource {
 public:
  using Compute = std::function<AttentionResult(const AttentionRequest&)>;
  // status: called from the UI thread while a request runs (must be thread-safe); may be null.
  explicit QueuedAttentionSource(Compute compute, std::function<std::string()> status = nullptr);
  ~QueuedAttentionSource() override;
  bool available() const override { return true; }
  std::string reason() const override { return {}; }
  void request(const AttentionRequest& request) override;
  std::shared_ptr<const AttentionResult> latest(const std::string& tag) const override;
  bool busy(const std::string& tag) const override;
  std::string status(const std::string& tag) const override;

 private:
  void run();
  Compute compute_;
  std::function<std::string()> status_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  LatestRequestQueue queue_;
  std::map<std::string, std::shared_ptr<const AttentionResult>> results_;
  std::string running_tag_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace headscope::views
