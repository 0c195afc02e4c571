// The attention request queue and its threaded server (see attention_source.h).
#include "views/data/attention_source.h"

#include <algorithm>
#include <exception>

#include "core/store/h5.h"
#include "views/data/run_data.h"

namespace headscope::views {

void LatestRequestQueue::push(const AttentionRequest& request) {
  auto same_tag = std::find_if(queue_.begin(), queue_.end(), [&](const AttentionRequest& q) { return q.tag == request.tag; });
  if (same_tag != queue_.end()) {
    *same_tag = request;  // the newer request takes the older one's place
    return;
  }
  queue_.push_back(request);
}

bool LatestRequestQueue::pop(AttentionRequest* out) {
  if (queue_.empty()) return false;
  *out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

bool LatestRequestQueue::contains(const std::string& tag) const {
  return std::any_of(queue_.begin(), queue_.end(), [&](const AttentionRequest& q) { return q.tag == tag; });
}

QueuedAttentionSource::QueuedAttentionSource(Compute compute, std::function<std::string()> status)
    : compute_(std::move(compute)), status_(std::move(status)) {
  worker_ = std::thread([this] {
    h5::quiet_errors();  // per thread: HDF5's error printing is a thread's own setting (a compute may read a store)
    run();
  });
}

QueuedAttentionSource::~QueuedAttentionSource() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void QueuedAttentionSource::request(const AttentionRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto done = results_.find(request.tag);
    if (done != results_.end() && done->second->request == request && !queue_.contains(request.tag)) return;
    queue_.push(request);
  }
  wake_.notify_all();
}

std::shared_ptr<const AttentionResult> QueuedAttentionSource::latest(const std::string& tag) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = results_.find(tag);
  return found == results_.end() ? nullptr : found->second;
}

bool QueuedAttentionSource::busy(const std::string& tag) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_tag_ == tag || queue_.contains(tag);
}

std::string QueuedAttentionSource::status(const std::string& tag) const {
  if (!status_ || !busy(tag)) return {};
  return status_();
}

void QueuedAttentionSource::run() {
  for (;;) {
    AttentionRequest request;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || queue_.size() > 0; });
      if (stop_) return;
      queue_.pop(&request);
      running_tag_ = request.tag;
    }
    auto result = std::make_shared<AttentionResult>();
    try {
      *result = compute_(request);
    } catch (const std::exception& e) {
      result->error = e.what();
    }
    result->request = request;
    result->serial = next_serial();
    std::lock_guard<std::mutex> lock(mutex_);
    results_[request.tag] = result;
    running_tag_.clear();
  }
}

}  // namespace headscope::views
