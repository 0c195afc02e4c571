// LiveRunData (see live_run_data.h). The worker loop: open; then repeatedly serve queued reads (newest
// first), refresh() every poll interval, and re-read the summaries already shown when samples appeared
// (the old ones stay visible until the new ones are published, so nothing flickers).
#include "views/data/live_run_data.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/store/reader.h"

namespace headscope::views {

namespace {
constexpr std::size_t kMaxCachedBlocks = 96;
}

LiveRunData::LiveRunData(std::string path, int poll_interval_ms)
    : path_(std::move(path)), poll_interval_ms_(poll_interval_ms) {
  auto initial = std::make_shared<Snapshot>();
  initial->info.path = path_;
  latest_ = initial;
  frame_ = initial;
  worker_ = std::thread([this] { run_worker(); });
}

LiveRunData::~LiveRunData() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

bool LiveRunData::begin_frame() {
  std::shared_ptr<const Snapshot> latest;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    latest = latest_;
  }
  const bool changed = latest != frame_;
  frame_ = std::move(latest);
  return changed;
}

std::size_t LiveRunData::pending_requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size() + (busy_ ? 1 : 0);
}

void LiveRunData::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return requests_.empty() && !busy_ && (latest_->info.opened || !latest_->info.error.empty()); });
}

void LiveRunData::request(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::find(requests_.begin(), requests_.end(), key) != requests_.end()) return;
    requests_.push_back(key);
  }
  wake_.notify_all();
}

SharedFloats LiveRunData::lookup_floats(const std::string& key) {
  auto found = frame_->floats.find(key);
  if (found != frame_->floats.end()) return found->second;
  if (frame_->info.opened) request(key);
  return nullptr;
}

SharedFloats LiveRunData::summary(const std::string& metric) { return lookup_floats(summary_key(metric)); }
SharedFloats LiveRunData::layer_slice(const std::string& metric, std::int64_t sample, int layer) {
  return lookup_floats(layer_slice_key(metric, sample, layer));
}
SharedFloats LiveRunData::head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) {
  return lookup_floats(head_trace_key(metric, sample, head));
}

SharedStrings LiveRunData::token_text(std::int64_t sample) {
  auto found = frame_->texts.find(sample);
  if (found != frame_->texts.end()) return found->second;
  if (frame_->info.opened) request("text|" + std::to_string(sample));
  return nullptr;
}

SharedPinned LiveRunData::pinned_attention(std::int64_t sample, store::HeadRef head) {
  const std::string key = pinned_key(sample, head);
  auto found = frame_->pinned.find(key);
  if (found != frame_->pinned.end()) return found->second;
  if (frame_->info.opened) request(key);
  return nullptr;
}

SharedFloats LiveRunData::flow_mean(const std::vector<std::int64_t>& samples) {
  return lookup_floats(flow_mean_key(samples));
}

SharedAnalysis LiveRunData::analysis() {
  if (!frame_->info.opened) return nullptr;
  const bool stale = !frame_->analysis || frame_->analysis_generation != frame_->info.generation;
  const auto now = std::chrono::steady_clock::now();
  // A growing run is re-analysed at most every 5 s: the analysis reads every sample.
  if (stale && (!frame_->analysis || now - analysis_requested_ > std::chrono::seconds(5))) {
    analysis_requested_ = now;
    request("analysis");
  }
  return frame_->analysis;
}

void LiveRunData::publish(std::shared_ptr<const Snapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    latest_ = std::move(snapshot);
  }
  idle_.notify_all();
}

void LiveRunData::run_worker() {
  std::unique_ptr<store::StoreReader> reader;
  auto current = std::make_shared<Snapshot>();
  current->info.path = path_;
  try {
    reader = store::StoreReader::open(path_);
    current->info = read_run_info(*reader);
  } catch (const std::exception& e) {
    current->info.error = e.what();
  }
  publish(current);
  if (!reader) return;

  auto next_poll = std::chrono::steady_clock::now();
  for (;;) {
    std::string key;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      busy_ = false;
      idle_.notify_all();
      wake_.wait_until(lock, next_poll, [this] { return stop_ || !requests_.empty(); });
      if (stop_) return;
      if (!requests_.empty()) {
        key = requests_.back();  // the newest first: it is what the user looks at now
        requests_.pop_back();
        busy_ = true;
      }
    }
    auto next = std::make_shared<Snapshot>(*current);
    next->version = current->version + 1;
    try {
      if (!key.empty()) {
        if (key == "analysis") {
          next->analysis = std::make_shared<const analysis::StoreAnalysis>(analysis::analyze_store(*reader));
          next->analysis_generation = next->info.generation;
        } else if (key.rfind("text|", 0) == 0) {
          const std::int64_t sample = std::stoll(key.substr(5));
          next->texts[sample] = std::make_shared<const std::vector<std::string>>(reader->token_text(sample));
        } else if (key.rfind("pinned|", 0) == 0) {
          std::int64_t sample = 0;
          store::HeadRef head;
          std::sscanf(key.c_str(), "pinned|%ld|%d|%d", &sample, &head.layer, &head.head);
          auto result = std::make_shared<PinnedAttention>();
          result->serial = next_serial();
          if (auto values = reader->pinned_attention(sample, head)) {
            result->pinned = true;
            result->values = std::move(*values);
            result->token_count = reader->sample(sample).token_count;
          }
          next->pinned[key] = result;
        } else {
          next->floats[key] = read_floats(*reader, key);
        }
        if (next->floats.size() > kMaxCachedBlocks) {
          // Drop the oldest-read blocks (lowest serials), keeping summaries.
          std::vector<std::pair<std::uint64_t, std::string>> order;
          for (const auto& [k, block] : next->floats)
            if (k.rfind("summary|", 0) != 0) order.emplace_back(block->serial, k);
          std::sort(order.begin(), order.end());
          for (std::size_t i = 0; i < order.size() / 2; ++i) next->floats.erase(order[i].second);
        }
        if (next->pinned.size() > 16) next->pinned.clear();
        if (next->texts.size() > 64) next->texts.clear();
      } else {
        next_poll = std::chrono::steady_clock::now() + std::chrono::milliseconds(poll_interval_ms_);
        const bool grew = reader->refresh();
        const bool was_live = next->info.live;
        if (grew) {
          const std::int64_t known = next->info.sample_count;
          next->info.sample_count = reader->sample_count();
          next->info.token_count = reader->token_count();
          for (std::int64_t i = known; i < next->info.sample_count; ++i) next->info.samples.push_back(reader->sample(i));
          next->info.generation += 1;
          for (auto& [k, block] : next->floats)
            if (k.rfind("summary|", 0) == 0) block = read_floats(*reader, k);
        }
        next->info.live = reader->live();
        next->info.complete = reader->complete();
        if (!grew && was_live == next->info.live) continue;  // nothing new: publish nothing
      }
    } catch (const std::exception& e) {
      next->info.error = e.what();
    }
    current = next;
    publish(current);
  }
}

}  // namespace headscope::views
