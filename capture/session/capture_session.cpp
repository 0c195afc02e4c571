// CaptureSession (see capture_session.h). Sections:
//   1. setup: model, tokenizer, prompt set, store (new or resumed) — all bad input fails here
//   2. building one sample's input: tokens, generation or latent loop, flow positions, spans
//   3. the model thread and the writer thread, joined by a two-slot queue
#include "capture/session/capture_session.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "capture/model/generate_torch.h"
#include "capture/model/model_torch.h"
#include "capture/session/latent_loop_torch.h"
#include "capture/session/measure_torch.h"
#include "capture/session/sequence_bounds.h"
#include "capture/tokenizer/tokenizer.h"
#include "core/io/sample_source.h"
#include "core/store/writer.h"

namespace headscope::capture {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CaptureSession::Impl {
  CaptureSettings settings;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<store::StoreWriter> writer;
  std::set<std::string> done_ids;
  MeasureOptions measure;
  bool warned_long_context = false;  // past max_position_embeddings: warned once per run

  std::thread model_thread, writer_thread;
  std::atomic<bool> cancel_requested{false};

  // Two-slot queue between the threads.
  std::mutex queue_mutex;
  std::condition_variable queue_changed;
  std::deque<store::SampleRecord> queue;
  bool producer_done = false, writer_failed = false;

  mutable std::mutex progress_mutex;
  CaptureProgress progress;
  Clock::time_point started;

  void setup();
  std::optional<store::SampleRecord> build_sample(const io::PromptRecord& prompt);
  void run_model();
  void run_writer();
  void fail(const std::string& message) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    if (progress.error.empty()) progress.error = message;
  }
};

// The samples of a capture: its prompt set or token shards (core/io/sample_source.h).
static io::SampleSourcePaths sample_paths(const CaptureSettings& s) { return {s.prompts_path, s.shards_path, ""}; }

// 1. Setup -----------------------------------------------------------------------------------------------
static std::string settings_json(const CaptureSettings& s, int embed_layer) {
  const char* modes[] = {"teacher_forced", "generate", "latent"};
  const char* flows[] = {"last_k", "explicit_positions", "marker_token", "latent_steps"};
  nlohmann::json j{{"mode", modes[static_cast<int>(s.mode)]},
                   {"prompts", s.prompts_path},
                   {"shards", s.shards_path},
                   {"generate_tokens", s.generate_tokens},
                   {"greedy", s.greedy},
                   {"seed", s.seed},
                   {"temperature", s.temperature},
                   {"latent_steps", s.latent_steps},
                   {"flow_size", s.flow_size},
                   {"flow_select", flows[static_cast<int>(s.flow_select)]},
                   {"flow_positions", s.flow_positions},
                   {"flow_marker_id", s.flow_marker_id},
                   {"device", s.device},
                   {"dtype", s.dtype},
                   {"add_bos", s.add_bos},
                   {"jsd_window", s.jsd_window},
                   {"connectivity_threshold", s.connectivity_threshold},
                   {"k90_mass", 0.9},
                   {"embed_layer", embed_layer},
                   {"entropy_first_positions", "measured (not NaN-ed)"}};
  return j.dump();
}

static std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void CaptureSession::Impl::setup() {
  auto& s = settings;
  if (s.mode == CaptureMode::generate && s.generate_tokens <= 0)
    throw std::runtime_error("generation needs --generate N with N > 0");
  if (s.mode == CaptureMode::latent && s.latent_steps <= 0) throw std::runtime_error("a latent loop needs --latent K with K > 0");
  if (s.flow_select == FlowSelect::latent_steps) {
    if (s.mode != CaptureMode::latent) throw std::runtime_error("flow on latent steps needs a latent loop (--latent K)");
    s.flow_size = s.latent_steps;
  }
  if (s.flow_select == FlowSelect::explicit_positions) s.flow_size = static_cast<int>(s.flow_positions.size());
  model::LoadOptions load;
  load.device = s.device;
  load.dtype = s.dtype;
  load.threads = s.threads;
  model = model::Model::load(s.model_dir, load);
  const auto& config = model->config();
  const fs::path folder(s.model_dir);
  const fs::path tokenizer_file = tokenizer::find_tokenizer_file(s.model_dir);
  if (!tokenizer_file.empty()) tokenizer = tokenizer::load_tokenizer(tokenizer_file.string());

  for (const auto& head : s.pinned_heads)
    if (head.layer < 0 || head.layer >= config.layer_count || head.head < 0 || head.head >= config.head_count)
      throw std::runtime_error("pinned head " + store::head_name(head) + " is outside the model (" +
                               std::to_string(config.layer_count) + " layers x " + std::to_string(config.head_count) + " heads)");
  measure.pinned_heads = s.pinned_heads;
  measure.jsd_window = s.jsd_window;
  measure.connectivity_threshold = s.connectivity_threshold;
  measure.embed_layer = s.embed_layer >= 0 ? s.embed_layer : config.layer_count / 2;
  if (measure.embed_layer >= config.layer_count) throw std::runtime_error("--embed-layer is past the model's last layer");

  std::int64_t total = io::SampleReader(sample_paths(s)).count();
  if (s.max_samples >= 0) total = std::min(total, s.max_samples);
  if (total == 0)
    throw std::runtime_error((s.prompts_path.empty() ? s.shards_path : s.prompts_path) + ": no samples to capture" +
                             (s.max_samples == 0 ? " (--max-samples 0)" : " (an empty prompt set?)"));

  if (s.resume && fs::exists(s.out_path)) {
    writer = store::StoreWriter::resume(s.out_path);
    const auto& layout = writer->layout();
    if (layout.layer_count != config.layer_count || layout.head_count != config.head_count)
      throw std::runtime_error(s.out_path + ": the store was captured from a model of another shape; cannot resume with " + s.model_dir);
    for (const auto& id : writer->sample_ids()) done_ids.insert(id);
  } else {
    store::StoreLayout layout;
    layout.kind = store::RunKind::capture;
    layout.layer_count = config.layer_count;
    layout.head_count = config.head_count;
    layout.metrics = store::standard_metrics();
    layout.metric_type = s.float32_metrics ? store::ValueType::float32 : store::ValueType::float16;
    layout.mantissa_bits = s.mantissa_bits;
    layout.flow_size = std::max(0, s.flow_size);
    layout.pinned_heads = s.pinned_heads;
    layout.embedding_dim = config.hidden_size;
    store::Provenance provenance;
    provenance.command_line = s.command_line;
    provenance.model_name = fs::absolute(folder).lexically_normal().filename().string();
    if (provenance.model_name.empty()) provenance.model_name = fs::absolute(folder).parent_path().filename().string();
    provenance.model_path = fs::absolute(folder).string();
    provenance.model_config_json = config.json;
    if (!tokenizer_file.empty()) {
      provenance.tokenizer_format = tokenizer_file.filename().string();
      provenance.tokenizer_bytes = read_bytes(tokenizer_file);
    }
    provenance.settings_json = settings_json(s, measure.embed_layer);
    writer = store::StoreWriter::create(s.out_path, layout, provenance, s.overwrite);
  }
  std::lock_guard<std::mutex> lock(progress_mutex);
  progress.samples_total = total;
}

// 2. One sample's input ----------------------------------------------------------------------------------
static std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

static std::vector<int> choose_flow_positions(const CaptureSettings& s, const std::vector<std::int64_t>& ids, int token_count,
                                              int prompt_length, const std::string& where) {
  const int K = s.flow_size;
  std::vector<int> positions;
  if (K <= 0) return positions;
  switch (s.flow_select) {
    case FlowSelect::last_k:
      for (int p = token_count - K; p < token_count; ++p) positions.push_back(p);
      break;
    case FlowSelect::latent_steps:
      for (int p = prompt_length; p < prompt_length + K; ++p) positions.push_back(p);
      break;
    case FlowSelect::explicit_positions:
      for (int p : s.flow_positions) positions.push_back(p < 0 ? token_count + p : p);
      std::sort(positions.begin(), positions.end());
      break;
    case FlowSelect::marker_token:
      for (int p = token_count - 1; p >= 0 && static_cast<int>(positions.size()) < K; --p)
        if (ids[p] == s.flow_marker_id) positions.insert(positions.begin(), p);
      if (static_cast<int>(positions.size()) < K)
        throw std::runtime_error(where + "has " + std::to_string(positions.size()) + " marker tokens (id " +
                                 std::to_string(s.flow_marker_id) + "), the flow needs " + std::to_string(K));
      break;
  }
  for (int p : positions)
    if (p < 0 || p >= token_count)
      throw std::runtime_error(where + "flow position " + std::to_string(p) + " is outside its " + std::to_string(token_count) +
                               " tokens (needs at least K = " + std::to_string(K) + ")");
  return positions;
}

std::optional<store::SampleRecord> CaptureSession::Impl::build_sample(const io::PromptRecord& prompt) {
  const std::string where = (settings.shards_path.empty() ? settings.prompts_path : settings.shards_path) + ":" + std::to_string(prompt.line) + ": sample '" + prompt.id + "' ";
  std::vector<std::int64_t> ids;
  const bool bos = settings.add_bos && tokenizer && tokenizer->bos_id().has_value();
  if (!prompt.ids.empty()) {
    ids.assign(prompt.ids.begin(), prompt.ids.end());
  } else {
    if (!tokenizer) throw std::runtime_error(where + "has text but " + settings.model_dir + " has no tokenizer.json or tokenizer.model (give 'ids' instead)");
    if (bos) ids.push_back(*tokenizer->bos_id());
    for (auto id : tokenizer->encode(prompt.text)) ids.push_back(id);
  }
  const auto& config = model->config();
  for (auto id : ids)
    if (id < 0 || id >= config.vocab_size)
      throw std::runtime_error(where + "has token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(config.vocab_size));

  const int extra_steps = settings.mode == CaptureMode::generate ? settings.generate_tokens
                          : settings.mode == CaptureMode::latent ? settings.latent_steps : 0;
  check_sequence_length(config, static_cast<std::int64_t>(ids.size()) + extra_steps, where, warned_long_context);

  MeasureInput input;
  const int prompt_length = static_cast<int>(ids.size());
  input.prompt_length = prompt_length;
  std::vector<std::int64_t> all_ids = ids;
  const auto long_options = at::TensorOptions().dtype(at::kLong);
  at::NoGradGuard no_grad;
  if (settings.mode == CaptureMode::generate) {
    model::GenerateOptions options;
    options.max_new_tokens = settings.generate_tokens;
    options.greedy = settings.greedy;
    options.seed = settings.seed ^ fnv1a(prompt.id);  // per-sample streams, stable across builds
    options.temperature = settings.temperature;
    // Stop at the model's end-of-sequence token (kept as the last measured step), as a generation would.
    if (config.eos_id) options.stop_ids.push_back(*config.eos_id);
    const auto generated = model::generate(*model, ids, options);
    all_ids.insert(all_ids.end(), generated.begin(), generated.end());
  }
  if (settings.mode == CaptureMode::latent) {
    input.input_embeddings = latent_loop_embeddings(*model, ids, settings.latent_steps);
    all_ids.insert(all_ids.end(), settings.latent_steps, -1);
  } else {
    input.input_ids = at::tensor(all_ids, long_options).unsqueeze(0).to(model->device());
  }
  const int token_count = static_cast<int>(all_ids.size());
  input.flow_positions = choose_flow_positions(settings, all_ids, token_count, prompt_length, where);

  store::SampleRecord record;
  record.id = prompt.id;
  record.prompt_length = settings.mode == CaptureMode::teacher_forced ? token_count : prompt_length;
  input.prompt_length = record.prompt_length;
  record.tokens.assign(all_ids.begin(), all_ids.end());
  for (auto id : all_ids) record.token_text.push_back(id < 0 ? "<latent>" : tokenizer ? tokenizer->token_text(static_cast<std::int32_t>(id)) : std::to_string(id));

  // Labelled spans: byte offsets of the text -> token ranges (tokens of the text before each offset).
  nlohmann::json span_tokens = nlohmann::json::array();
  if (!prompt.spans.empty() && tokenizer && !prompt.text.empty()) {
    auto token_at = [&](std::int64_t byte) {
      return static_cast<int>(tokenizer->encode(prompt.text.substr(0, static_cast<std::size_t>(byte))).size()) + (bos ? 1 : 0);
    };
    for (const auto& span : prompt.spans) {
      int begin = token_at(span.start), end = token_at(span.end);
      end = std::min(std::max(end, begin + 1), prompt_length);
      if (begin >= end) continue;
      input.span_tokens.push_back({begin, end});
      record.embeddings.span_start.push_back(begin);
      record.embeddings.span_end.push_back(end);
      record.embeddings.labels.push_back(span.label);
      span_tokens.push_back({begin, end, span.label});
    }
  }
  measure_sample(*model, input, measure, record);

  auto metadata = nlohmann::json::parse(prompt.metadata_json);
  metadata["capture"] = {{"mode", settings.mode == CaptureMode::generate ? "generate" : settings.mode == CaptureMode::latent ? "latent" : "teacher_forced"},
                         {"prompt_tokens", prompt_length}, {"span_tokens", span_tokens}, {"bos", bos && prompt.ids.empty()}};
  if (!prompt.text.empty()) metadata["text"] = prompt.text;
  record.metadata_json = metadata.dump();
  return record;
}

// 3. Threads ---------------------------------------------------------------------------------------------
void CaptureSession::Impl::run_model() {
  try {
    io::SampleReader reader(sample_paths(settings));
    std::set<std::string> seen;
    std::int64_t taken = 0;
    while (!cancel_requested) {
      if (settings.max_samples >= 0 && taken >= settings.max_samples) break;
      auto prompt = reader.next();
      if (!prompt) break;
      ++taken;
      if (!seen.insert(prompt->id).second)
        throw std::runtime_error(settings.prompts_path + ":" + std::to_string(prompt->line) + ": duplicate id '" + prompt->id + "'");
      if (done_ids.count(prompt->id)) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        ++progress.samples_skipped;
        --progress.samples_total;
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(progress_mutex);
        progress.current_id = prompt->id;
      }
      auto record = build_sample(*prompt);
      std::unique_lock<std::mutex> lock(queue_mutex);
      queue_changed.wait(lock, [&] { return queue.size() < 2 || writer_failed || cancel_requested; });
      if (writer_failed || cancel_requested) break;
      queue.push_back(std::move(*record));
      queue_changed.notify_all();
    }
  } catch (const std::exception& e) {
    fail(e.what());
  }
  std::lock_guard<std::mutex> lock(queue_mutex);
  producer_done = true;
  queue_changed.notify_all();
}

void CaptureSession::Impl::run_writer() {
  try {
    while (true) {
      store::SampleRecord record;
      {
        std::unique_lock<std::mutex> lock(queue_mutex);
        queue_changed.wait(lock, [&] { return !queue.empty() || producer_done; });
        if (queue.empty()) break;
        record = std::move(queue.front());
        queue.pop_front();
        queue_changed.notify_all();
      }
      writer->append(record);
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress.samples_done += 1;
      progress.tokens_done += static_cast<std::int64_t>(record.tokens.size());
      progress.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
      progress.tokens_per_second = progress.tokens_done / std::max(1e-9, progress.elapsed_seconds);
      const double per_sample = progress.elapsed_seconds / progress.samples_done;
      progress.eta_seconds = per_sample * std::max<std::int64_t>(0, progress.samples_total - progress.samples_done);
    }
    writer->close();
  } catch (const std::exception& e) {
    fail(e.what());
    std::lock_guard<std::mutex> lock(queue_mutex);
    writer_failed = true;
    queue_changed.notify_all();
  }
  std::lock_guard<std::mutex> lock(progress_mutex);
  progress.running = false;  // the writer is the last to finish
}

CaptureSession::CaptureSession(CaptureSettings settings) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
}

CaptureSession::~CaptureSession() {
  cancel();
  try {
    wait();
  } catch (...) {  // errors were reported through progress()
  }
}

void CaptureSession::start() {
  impl_->setup();
  impl_->started = Clock::now();
  {
    std::lock_guard<std::mutex> lock(impl_->progress_mutex);
    impl_->progress.running = true;
  }
  impl_->writer_thread = std::thread([this] { impl_->run_writer(); });
  impl_->model_thread = std::thread([this] { impl_->run_model(); });
}

void CaptureSession::cancel() {
  impl_->cancel_requested = true;
  std::lock_guard<std::mutex> lock(impl_->queue_mutex);
  impl_->queue_changed.notify_all();
}

CaptureProgress CaptureSession::progress() const {
  std::lock_guard<std::mutex> lock(impl_->progress_mutex);
  CaptureProgress copy = impl_->progress;
  if (copy.running) copy.elapsed_seconds = std::chrono::duration<double>(Clock::now() - impl_->started).count();
  return copy;
}

void CaptureSession::wait() {
  if (impl_->model_thread.joinable()) impl_->model_thread.join();
  if (impl_->writer_thread.joinable()) impl_->writer_thread.join();
  std::string error;
  {
    std::lock_guard<std::mutex> lock(impl_->progress_mutex);
    impl_->progress.finished = true;
    impl_->progress.cancelled = impl_->cancel_requested.load();
    error = impl_->progress.error;
  }
  if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace headscope::capture
