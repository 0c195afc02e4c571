// LiveRunData (see live_run_data.h). The worker loop: open; then repeatedly serve queued reads (newest
// first), refresh() every poll interval, and re-read the summaries already shown when samples appeared
// (the old ones stay visible until the new ones are published, so nothing flickers).
#include "views/data/live_run_data.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/store/h5.h"
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
  worker_ = std::thread([this] {
    h5::quiet_errors();  // per thread: HDF5's error printing is a thread's own setting
    run_worker();
  });
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

void LiveRunData::request(const RunRead& read) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::find(requests_.begin(), requests_.end(), read) != requests_.end()) return;
    requests_.push_back(read);
  }
  wake_.notify_all();
}

SharedFloats LiveRunData::lookup_floats(const RunRead& read) {
  auto found = frame_->floats.find(read);
  if (found != frame_->floats.end()) return found->second;
  if (frame_->info.opened) request(read);
  return nullptr;
}

SharedFloats LiveRunData::summary(const std::string& metric) { return lookup_floats(RunRead::summary_of(metric)); }
SharedFloats LiveRunData::layer_slice(const std::string& metric, std::int64_t sample, int layer) {
  return lookup_floats(RunRead::layer_slice_of(metric, sample, layer));
}
SharedFloats LiveRunData::head_trace(const std::string& metric, std::int64_t sample, store::HeadRef head) {
  return lookup_floats(RunRead::head_trace_of(metric, sample, head));
}

SharedFloats LiveRunData::model_trace(const std::string& metric, std::int64_t sample) {
  return lookup_floats(RunRead::model_trace_of(metric, sample));
}

SharedStrings LiveRunData::token_text(std::int64_t sample) {
  auto found = frame_->texts.find(sample);
  if (found != frame_->texts.end()) return found->second;
  if (frame_->info.opened) request(RunRead::token_text_of(sample));
  return nullptr;
}

SharedPinned LiveRunData::pinned_attention(std::int64_t sample, store::HeadRef head) {
  const RunRead read = RunRead::pinned_attention_of(sample, head);
  auto found = frame_->pinned.find(read);
  if (found != frame_->pinned.end()) return found->second;
  if (frame_->info.opened) request(read);
  return nullptr;
}

SharedFloats LiveRunData::flow_mean(const std::vector<std::int64_t>& samples) {
  return lookup_floats(RunRead::flow_mean_of(samples));
}

SharedAnalysis LiveRunData::analysis() {
  if (!frame_->info.opened) return nullptr;
  const bool stale = !frame_->analysis || frame_->analysis_generation != frame_->info.generation;
  const auto now = std::chrono::steady_clock::now();
  // A growing run is re-analysed at most every 5 s: the analysis reads every sample.
  if (stale && (!frame_->analysis || now - analysis_requested_ > std::chrono::seconds(5))) {
    analysis_requested_ = now;
    request(RunRead::analysis_of_run());
  }
  return frame_->analysis;
}

SharedHeartbeats LiveRunData::heartbeats(const analysis::HeartbeatOptions& options) {
  if (!frame_->info.opened) return nullptr;
  const RunRead read = RunRead::heartbeats_of_run(options);
  const auto found = frame_->heartbeats.find(read);
  const bool known = found != frame_->heartbeats.end();
  const bool stale = !known || found->second.second != frame_->info.generation;
  const auto now = std::chrono::steady_clock::now();
  // As analysis(): a growing run is recomputed at most every 5 s; new options are asked at once.
  if (stale && (!known || now - heartbeats_requested_ > std::chrono::seconds(5))) {
    heartbeats_requested_ = now;
    request(read);
  }
  return known ? found->second.first : nullptr;
}

void LiveRunData::publish(std::shared_ptr<const Snapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    latest_ = std::move(snapshot);
  }
  idle_.notify_all();
}

void LiveRunData::serve(const store::StoreReader& reader, const RunRead& read, Snapshot& next) {
  switch (read.kind) {
    case RunRead::Kind::analysis:
      next.analysis = std::make_shared<const analysis::StoreAnalysis>(analysis::analyze_store(reader));
      next.analysis_generation = next.info.generation;
      break;
    case RunRead::Kind::heartbeats:
      if (next.heartbeats.size() > 8) next.heartbeats.clear();
      next.heartbeats[read] = {std::make_shared<const analysis::HeartbeatRun>(analysis::compute_heartbeat_run(reader, read.heartbeat_options())),
                               next.info.generation};
      break;
    case RunRead::Kind::token_text:
      next.texts[read.sample] = std::make_shared<const std::vector<std::string>>(reader.token_text(read.sample));
      break;
    case RunRead::Kind::pinned_attention: next.pinned[read] = read_pinned(reader, read.sample, read.head); break;
    case RunRead::Kind::summary:
    case RunRead::Kind::layer_slice:
    case RunRead::Kind::head_trace:
    case RunRead::Kind::model_trace:
    case RunRead::Kind::flow_mean: next.floats[read] = read_floats(reader, read); break;
  }
  if (next.floats.size() > kMaxCachedBlocks) {
    // Drop the oldest-read blocks (lowest serials), keeping summaries.
    std::vector<std::pair<std::uint64_t, RunRead>> order;
    for (const auto& [cached, block] : next.floats)
      if (cached.kind != RunRead::Kind::summary) order.emplace_back(block->serial, cached);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < order.size() / 2; ++i) next.floats.erase(order[i].second);
  }
  if (next.pinned.size() > 16) next.pinned.clear();
  if (next.texts.size() > 64) next.texts.clear();
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
  int failures = 0;  // consecutive failed reads of a live file
  auto retry_after = std::chrono::steady_clock::time_point::min();  // after a failed read: requests wait until then
  for (;;) {
    std::optional<RunRead> read;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      busy_ = false;
      idle_.notify_all();
      const auto may_serve = [&] { return !requests_.empty() && std::chrono::steady_clock::now() >= retry_after; };
      wake_.wait_until(lock, std::max(next_poll, retry_after), [&] { return stop_ || may_serve(); });
      if (stop_) return;
      if (may_serve()) {
        read = requests_.back();  // the newest first: it is what the user looks at now
        requests_.pop_back();
        busy_ = true;
      }
    }
    auto next = std::make_shared<Snapshot>(*current);
    next->version = current->version + 1;
    try {
      if (read) {
        serve(*reader, *read, *next);
        failures = 0;
      } else {
        next_poll = std::chrono::steady_clock::now() + std::chrono::milliseconds(poll_interval_ms_);
        const bool was_live = next->info.live;
        bool grew = reader->refresh();
        next->info.live = reader->live();
        if (was_live && !next->info.live) {
          // The writer let go. A reader opened beside it keeps what it read at open (the `complete` flag the
          // writer sets last among them): reopen, so the run shows as the file now is on disk.
          reader.reset();  // HDF5 shares one open file per process: a reopen beside it would read the old cache
          reader = store::StoreReader::open(path_);
          grew = grew || reader->sample_count() > next->info.sample_count;
        }
        if (grew && !reader->appends_only()) {  // a live master: new samples of earlier shards moved later ones
          next->info.samples.clear();
          next->info.sample_count = 0;
          for (auto it = next->floats.begin(); it != next->floats.end();)
            it = it->first.kind == RunRead::Kind::summary ? std::next(it) : next->floats.erase(it);
          next->pinned.clear();
          next->texts.clear();
        }
        if (grew) {
          const std::int64_t known = next->info.sample_count;
          next->info.sample_count = reader->sample_count();
          next->info.token_count = reader->token_count();
          for (std::int64_t i = known; i < next->info.sample_count; ++i) next->info.samples.push_back(reader->sample(i));
          next->info.generation += 1;
          for (auto& [shown, block] : next->floats)
            if (shown.kind == RunRead::Kind::summary) block = read_floats(*reader, shown);
        }
        next->info.complete = reader->complete();
        const bool had_error = !next->info.error.empty();
        next->info.error.clear();  // this poll read the file whole again
        failures = 0;
        if (!grew && was_live == next->info.live && !had_error) continue;  // nothing new: publish nothing
      }
    } catch (const std::exception& e) {
      // A read beside a live writer can fail while the writer is extending a dataset (HDF5 1.10's SWMR
      // reader then sees chunk index and extent out of step): retry at the next poll, a request too, and
      // report only a failure that persists.
      if (reader && reader->live() && ++failures < 5) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (read) requests_.push_back(*read);
        retry_after = next_poll = std::chrono::steady_clock::now() + std::chrono::milliseconds(poll_interval_ms_);
        continue;
      }
      next->info.error = e.what();
    }
    current = next;
    publish(current);
    if (!reader) return;  // the reopen failed: its error is published
  }
}

}  // namespace headscope::views
