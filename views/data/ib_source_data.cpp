// IbSourceData (see ib_source_data.h).
#include "views/data/ib_source_data.h"

#include <algorithm>
#include <filesystem>

#include "core/store/h5.h"
#include "core/store/reader.h"

namespace headscope::views {

IbSourceData::IbSourceData(std::shared_ptr<const IbData> ib, bool background) : ib_(std::move(ib)), background_(background) {
  if (!ib_->has_source) {
    started_ = true;
    state_.status = Status::no_source;
    state_.message = "no source store: the IB input was " + (ib_->input.empty() ? std::string("not a capture store") : ib_->input) +
                     ", a plain embeddings file, which records no samples, tokens or heads; run headscope ib on a capture "
                     "store to see the steps' text and their heads";
  }
}

IbSourceData::~IbSourceData() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

IbSourceData::State IbSourceData::state() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) {
    started_ = true;
    if (background_) {
      worker_ = std::thread([this] {
        h5::quiet_errors();  // per thread: HDF5's error printing is a thread's own setting
        serve();
      });
    } else {
      lock.unlock();
      start();
      lock.lock();
    }
  }
  return state_;
}

IbSourceData::SharedProfile IbSourceData::profile(const std::string& metric, std::string* error) {
  state();  // opens the store on first use
  std::unique_lock<std::mutex> lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (const auto found = profiles_.find(metric); found != profiles_.end()) return found->second;
    if (const auto failed = profile_errors_.find(metric); failed != profile_errors_.end()) {
      if (error) *error = failed->second;
      return nullptr;
    }
    if (state_.status != Status::ready) {
      if (error) *error = state_.status == Status::loading ? std::string() : state_.message;
      return nullptr;
    }
    if (background_) {
      if (std::find(requests_.begin(), requests_.end(), metric) == requests_.end()) requests_.push_back(metric);
      wake_.notify_all();
      return nullptr;
    }
    lock.unlock();
    compute(metric);
    lock.lock();
  }
  return nullptr;
}

void IbSourceData::start() {
  namespace fs = std::filesystem;
  State state;
  const fs::path folder = fs::path(ib_->path).parent_path();
  std::vector<std::string> candidates = {ib_->source_store_path};
  if (!ib_->source_store_path_relative.empty()) candidates.push_back((folder / ib_->source_store_path_relative).lexically_normal().string());
  std::string found;
  for (const std::string& candidate : candidates)
    if (!candidate.empty() && fs::exists(candidate)) {
      found = candidate;
      break;
    }
  try {
    if (found.empty()) {
      std::string looked;
      for (const std::string& candidate : candidates) looked += (looked.empty() ? "" : " and ") + candidate;
      throw std::runtime_error("the source store is not found (looked for " + looked +
                               "); keep it where it was, or beside the ib file as it was then");
    }
    auto reader = store::StoreReader::open(found);
    if (!ib_->source_store_created.empty() && reader->created() != ib_->source_store_created)
      throw std::runtime_error(found + " was created " + reader->created() + ", but the IB run read a store created " +
                               ib_->source_store_created + ": the file has been replaced since");
    const std::string problem = analysis::ib::check_step_source(*reader, ib_->source_steps);
    if (!problem.empty()) throw std::runtime_error(found + ": " + problem);
    state.steps = std::make_shared<const analysis::ib::SourceSteps>(analysis::ib::read_source_steps(*reader, ib_->source_steps));
    state.store_path = found;
    state.layer_count = reader->layout().layer_count;
    state.head_count = reader->layout().head_count;
    for (const store::MetricSpec& metric : reader->layout().metrics) {
      state.metrics.push_back(metric.name);
      state.metric_units.push_back(metric.units);
    }
    state.status = Status::ready;
    reader_ = std::move(reader);
  } catch (const std::exception& e) {
    state.status = Status::failed;
    state.message = e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = std::move(state);
}

void IbSourceData::compute(const std::string& metric) {
  SharedProfile result;
  std::string error;
  try {
    result = std::make_shared<const analysis::ib::ClusterHeadProfile>(analysis::ib::cluster_head_profile(
        *reader_, metric, ib_->source_steps, ib_->step_cluster, static_cast<int>(ib_->clusters.size())));
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (result) profiles_[metric] = result;
  else profile_errors_[metric] = error;
}

void IbSourceData::serve() {
  start();
  for (;;) {
    std::string metric;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !requests_.empty(); });
      if (stop_) return;
      metric = requests_.front();
      requests_.erase(requests_.begin());
    }
    compute(metric);
  }
}

}  // namespace headscope::views
