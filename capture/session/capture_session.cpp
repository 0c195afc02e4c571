// CaptureSession (see capture_session.h). Sections:
//   1. setup: model, tokenizer, prompt set, store (new, replacing through OUT.partial, or resumed after its
//      settings are checked against this run's) — all bad input fails here, before any file is touched
//   2. building one sample's input: tokens, generation or latent loop, flow positions, spans
//   3. the model thread and the writer thread, joined by a two-slot queue
#include "capture/session/capture_session.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
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
#include "core/analysis/generated_steps.h"
#include "core/io/sample_source.h"
#include "core/store/file_replace.h"
#include "core/store/h5.h"
#include "core/store/master.h"
#include "core/store/reader.h"
#include "core/store/schema.h"
#include "core/store/schema_table.h"
#include "core/store/writer.h"
#include "core/util/shares.h"

namespace headscope::capture {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CaptureSession::Impl {
  CaptureSettings settings;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<store::StoreWriter> writer;
  std::string write_path;                          // out_path, or out_path + ".partial" while replacing it
  std::unique_ptr<store::WriterLock> target_lock;  // out_path's while the partial that replaces it is written
  std::set<std::string> done_ids;
  MeasureOptions measure;
  // A sharded run: the master's path (settings.out_path then names this shard's store) and this share of
  // the requested samples, [share_begin, share_end) in prompt order.
  std::string master_path;
  std::int64_t share_begin = 0, share_end = std::numeric_limits<std::int64_t>::max(), share_planned = -1;

  std::thread model_thread, writer_thread;
  std::atomic<bool> cancel_requested{false};

  // Two-slot queue between the threads.
  std::mutex queue_mutex;
  std::condition_variable queue_changed;
  std::deque<store::SampleRecord> queue;
  bool producer_done = false, writer_failed = false;
  bool reached_end = false;  // the model thread took every requested sample (not cancelled, no error)

  mutable std::mutex progress_mutex;
  CaptureProgress progress;
  Clock::time_point started;

  void setup();
  std::string where(const io::PromptRecord& prompt) const;
  std::int64_t check_samples() const;
  std::vector<std::int64_t> sample_tokens(bool exact) const;
  void take_share();
  bool choose_store_path();
  void finish_store();
  std::string resume_advice() const;
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
                   {"adapter", s.adapter},
                   {"add_bos", s.add_bos},
                   {"jsd_window", s.jsd_window},
                   {"connectivity_threshold", s.connectivity_threshold},
                   {"k90_mass", 0.9},
                   {"embed_layer", embed_layer},
                   {"attention", store::attention_mode_name(s.attention)},
                   {"entropy_nan_first", s.nan_first},
                   {"entropy_first_positions", s.nan_first == 0 ? std::string("measured (not NaN-ed)")
                                                                : "NaN for the first " + std::to_string(s.nan_first) +
                                                                      " query positions (insufficient context)"}};
  return j.dump();
}

static std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

static std::uint64_t fnv1a(const char* bytes, std::size_t size, std::uint64_t hash = 1469598103934665603ull) {
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ static_cast<unsigned char>(bytes[i])) * 1099511628211ull;
  return hash;
}
static std::uint64_t fnv1a(const std::string& text) { return fnv1a(text.data(), text.size()); }

// What tells one checkpoint's weights from another's without reading gigabytes: each weight file's name,
// size and its first and last MiB (a safetensors header with every tensor's offsets, and values at both
// ends), hashed. A resumed capture refuses a store whose fingerprint differs.
static std::string weights_fingerprint(const std::string& model_dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(model_dir)) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && (extension == ".safetensors" || extension == ".bin" || extension == ".pt" || extension == ".pth"))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::uint64_t hash = fnv1a("weights");
  constexpr std::uintmax_t kEdge = 1 << 20;
  std::vector<char> buffer(kEdge);
  for (const auto& file : files) {
    const std::uintmax_t size = fs::file_size(file);
    const std::string name = file.filename().string() + ":" + std::to_string(size);
    hash = fnv1a(name.data(), name.size(), hash);
    std::ifstream in(file, std::ios::binary);
    for (const std::uintmax_t at : {std::uintmax_t{0}, size > kEdge ? size - kEdge : std::uintmax_t{0}}) {
      in.seekg(static_cast<std::streamoff>(at));
      in.read(buffer.data(), static_cast<std::streamsize>(std::min(kEdge, size)));
      hash = fnv1a(buffer.data(), static_cast<std::size_t>(in.gcount()), hash);
      in.clear();
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

// Every difference between the run a store records and this one that would make a resumed store mix two
// runs: the model (config, weights fingerprint), the tokenizer, the layout and every measuring setting.
// The inputs (prompts, shards) and the device may change; the samples are matched by id.
static std::vector<std::string> resume_differences(const store::StoreLayout& stored_layout, const store::Provenance& stored,
                                                   const store::StoreLayout& layout, const store::Provenance& now) {
  std::vector<std::string> out;
  auto differ = [&](const std::string& what, const std::string& was, const std::string& is) {
    if (was != is) out.push_back(what + ": the store has " + was + ", this run " + is);
  };
  auto json_or_text = [](const std::string& text) {
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    return parsed.is_discarded() ? text : parsed.dump();
  };
  if (json_or_text(stored.model_config_json) != json_or_text(now.model_config_json))
    out.push_back("model: config.json differs (the store's model was " + stored.model_path + ", this run's is " + now.model_path + ")");
  if (stored.tokenizer_bytes != now.tokenizer_bytes)
    out.push_back("tokenizer: the store's " + (stored.tokenizer_format.empty() ? std::string("(none)") : stored.tokenizer_format) +
                  " differs from this run's " + (now.tokenizer_format.empty() ? std::string("(none)") : now.tokenizer_format));
  const auto was = nlohmann::json::parse(stored.settings_json, nullptr, false), is = nlohmann::json::parse(now.settings_json);
  // Settings recorded later than others, with the value every store before them had.
  const nlohmann::json defaults_before_recorded{{"attention", "model"}, {"entropy_nan_first", 0}, {"adapter", ""}};
  for (const auto& [key, value] : is.items()) {
    if (key == "prompts" || key == "shards" || key == "device") continue;
    if (!was.is_object()) continue;
    if (!was.contains(key) && !defaults_before_recorded.contains(key)) continue;  // a store written before the setting was recorded
    const nlohmann::json& stored_value = was.contains(key) ? was[key] : defaults_before_recorded[key];
    differ(key == "weights_fingerprint" ? "model weights (fingerprint)" : key == "attention" ? "--attention" : key,
           stored_value.dump(), value.dump());
  }
  std::string stored_pins, pins;
  for (const auto& head : stored_layout.pinned_heads) stored_pins += head_name(head) + " ";
  for (const auto& head : layout.pinned_heads) pins += head_name(head) + " ";
  differ("--pin", stored_pins.empty() ? "none" : stored_pins, pins.empty() ? "none" : pins);
  differ("flow size", std::to_string(stored_layout.flow_size), std::to_string(layout.flow_size));
  differ("metric type", stored_layout.metric_type == store::ValueType::float16 ? "float16" : "float32",
         layout.metric_type == store::ValueType::float16 ? "float16" : "float32");
  differ("--mantissa-bits", std::to_string(stored_layout.mantissa_bits), std::to_string(layout.mantissa_bits));
  differ("embedding size", std::to_string(stored_layout.embedding_dim), std::to_string(layout.embedding_dim));
  return out;
}

std::string CaptureSession::Impl::where(const io::PromptRecord& prompt) const {
  return (settings.shards_path.empty() ? settings.prompts_path : settings.shards_path) + ":" + std::to_string(prompt.line) +
         ": sample '" + prompt.id + "' ";
}

// Reads every requested sample once, before a store is replaced: duplicate ids, text with no tokenizer to
// read it, token ids outside the vocabulary. Returns how many samples the run takes.
// The tokens of each requested sample (prompt plus generated or latent steps): for the store's chunk
// layout (the longest) and for a sharded run's balanced shares. Not `exact`: only a text longer than the
// long-sample threshold in bytes is tokenized (a token is at least a byte, so a shorter text cannot be a
// long sample) and a shorter one counts its bytes. A bad line ends the scan quietly: the capture meets it
// at its own sample, keeping the samples before it.
std::vector<std::int64_t> CaptureSession::Impl::sample_tokens(bool exact) const {
  constexpr std::size_t kLongSample = 2048;
  const std::int64_t extra = settings.mode == CaptureMode::generate ? settings.generate_tokens
                             : settings.mode == CaptureMode::latent ? settings.latent_steps : 0;
  const bool bos = settings.add_bos && tokenizer && tokenizer->bos_id().has_value();
  io::SampleReader reader(sample_paths(settings));
  std::vector<std::int64_t> tokens;
  while (settings.max_samples < 0 || static_cast<std::int64_t>(tokens.size()) < settings.max_samples) {
    std::optional<io::PromptRecord> prompt;
    try {
      prompt = reader.next();
    } catch (const std::exception&) {
      break;
    }
    if (!prompt) break;
    std::int64_t count = static_cast<std::int64_t>(prompt->ids.size());
    if (prompt->ids.empty() && tokenizer) {
      count = static_cast<std::int64_t>(prompt->text.size()) + 1;
      try {
        if (exact || prompt->text.size() > kLongSample)
          count = static_cast<std::int64_t>(tokenizer->encode(prompt->text).size()) + (bos ? 1 : 0);
      } catch (const std::exception&) {  // met again, with its error, at its sample
      }
    }
    tokens.push_back(count + extra);
  }
  return tokens;
}

// A sharded run: this process's share of the samples, its store beside the master, and the master
// checked first (an existing file is replaced only with --overwrite, and resumed only if it is a master).
void CaptureSession::Impl::take_share() {
  auto& s = settings;
  master_path = s.out_path;
  std::error_code ec;
  if (fs::exists(master_path, ec) && !s.overwrite) {
    if (!s.resume) store::check_replaceable(master_path, false);
    h5::quiet_errors();
    const auto master = store::read_master(master_path);
    if (!master)
      throw std::runtime_error(master_path + ": exists and is not the master of a sharded run; cannot resume shards into it "
                               "(--overwrite replaces it)");
    if (static_cast<int>(master->shards.size()) != s.shard_count)
      throw std::runtime_error(master_path + ": is the master of " + std::to_string(master->shards.size()) +
                               " shards; this run has " + std::to_string(s.shard_count) + " (resume with as many)");
  } else if (fs::exists(master_path, ec)) {
    store::check_replaceable(master_path, true);
  }
  const auto bounds = util::balanced_shares(sample_tokens(true), s.shard_count);
  share_begin = bounds[static_cast<std::size_t>(s.shard_index)];
  share_end = bounds[static_cast<std::size_t>(s.shard_index) + 1];
  share_planned = share_end - share_begin;
  s.out_path = store::shard_path(master_path, s.shard_index, s.shard_count);
}

std::int64_t CaptureSession::Impl::check_samples() const {
  io::SampleReader reader(sample_paths(settings));
  std::set<std::string> seen;
  std::int64_t count = 0;
  const auto vocab_size = model->config().vocab_size;
  while (settings.max_samples < 0 || count < settings.max_samples) {
    const auto prompt = reader.next();
    if (!prompt) break;
    if (!seen.insert(prompt->id).second) throw std::runtime_error(where(*prompt) + "repeats an earlier id");
    if (prompt->ids.empty() && !tokenizer)
      throw std::runtime_error(where(*prompt) + "has text but " + settings.model_dir +
                               " has no tokenizer.json or tokenizer.model (give 'ids' instead)");
    for (auto id : prompt->ids)
      if (id < 0 || id >= vocab_size)
        throw std::runtime_error(where(*prompt) + "has token id " + std::to_string(id) + " outside the vocabulary of " +
                                 std::to_string(vocab_size));
    ++count;
  }
  return count;
}

// Where this run writes, and whether it continues a store there (true) or creates one. A store that
// --overwrite replaces is rebuilt as OUT.partial and renamed over OUT once complete (finish_store), so an
// input error, a Ctrl-C or a full disk leaves OUT as it was; --resume continues such a partial first.
bool CaptureSession::Impl::choose_store_path() {
  const std::string& out = settings.out_path;
  const std::string partial = out + ".partial";
  std::error_code ec;
  for (const std::string& input : {settings.prompts_path, settings.shards_path, settings.model_dir})
    if (!input.empty() && fs::exists(out, ec) && fs::equivalent(input, out, ec))
      throw std::runtime_error(out + ": --out names this capture's own input (" + input + "); choose another file");
  if (settings.resume && fs::exists(partial, ec)) {
    target_lock = std::make_unique<store::WriterLock>(out);
    write_path = partial;
    return true;
  }
  if (settings.resume && fs::exists(out, ec)) {
    write_path = out;
    return true;
  }
  store::check_replaceable(out, settings.overwrite);
  if (fs::exists(out, ec)) {
    target_lock = std::make_unique<store::WriterLock>(out);
    write_path = partial;
  } else {
    write_path = out;
  }
  return false;
}

void CaptureSession::Impl::setup() {
  auto& s = settings;
  if (s.mode == CaptureMode::generate && s.generate_tokens <= 0)
    throw std::runtime_error("generation needs --generate N with N > 0");
  if (s.mode == CaptureMode::latent && s.latent_steps <= 0) throw std::runtime_error("a latent loop needs --latent K with K > 0");
  if (s.flow_select == FlowSelect::explicit_positions) s.flow_size = static_cast<int>(s.flow_positions.size());
  if (s.shard_count > 0 && s.local_rank >= 0 && s.device == "cuda")  // one GPU per rank on a machine
    s.device = "cuda:" + std::to_string(s.local_rank % std::max<int>(1, static_cast<int>(at::getNumGPUs())));
  for (std::size_t a = 0; a < s.pinned_heads.size(); ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (s.pinned_heads[a] == s.pinned_heads[b])
        throw std::runtime_error("--pin: head " + store::head_name(s.pinned_heads[a]) + " is given twice");
  model::LoadOptions load;
  load.device = s.device;
  load.dtype = s.dtype;
  load.adapter = s.adapter;
  load.threads = s.threads;
  model = model::Model::load(s.model_dir, load);
  const auto& config = model->config();
  // --flow latent without --latent K: a continuous-thought model's own number of thoughts (its config.json's
  // "latent", or what a CODI checkpoint's layout gave the loaded model).
  if (s.flow_select == FlowSelect::latent_steps && s.mode == CaptureMode::teacher_forced && config.latent) {
    s.mode = CaptureMode::latent;
    s.latent_steps = config.latent->steps;
  }
  if (s.flow_select == FlowSelect::latent_steps) {
    if (s.mode != CaptureMode::latent) throw std::runtime_error("flow on latent steps needs a latent loop (--latent K)");
    s.flow_size = s.latent_steps;
  }
  const fs::path folder(s.model_dir);
  const fs::path tokenizer_file = tokenizer::find_tokenizer_file(s.model_dir);
  if (!tokenizer_file.empty()) tokenizer = tokenizer::load_tokenizer(tokenizer_file.string());

  for (const auto& head : s.pinned_heads)
    if (head.layer < 0 || head.layer >= config.layer_count || head.head < 0 || head.head >= config.head_count)
      throw std::runtime_error("pinned head " + store::head_name(head) + " is outside the model (" +
                               std::to_string(config.layer_count) + " layers x " + std::to_string(config.head_count) + " heads)");
  if (s.shard_count > 0) take_share();
  measure.pinned_heads = s.pinned_heads;
  measure.jsd_window = s.jsd_window;
  measure.attention_budget_bytes = s.attention_budget_bytes;
  measure.on_layer_measured = [this](int layer) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.current_layers_done = layer + 1;
  };
  measure.connectivity_threshold = s.connectivity_threshold;
  measure.pre_rope_attention = s.attention == store::AttentionMode::pre_rope;
  measure.nan_first = s.nan_first;
  measure.embed_layer = s.embed_layer >= 0 ? s.embed_layer : config.layer_count / 2;
  if (measure.embed_layer >= config.layer_count) throw std::runtime_error("--embed-layer is past the model's last layer");
  // Replacing a store: every prompt is checked before the replacement starts. A new store (or a resumed
  // one) meets a bad prompt at its sample instead, keeping the samples before it for --resume.
  std::error_code ec;
  const bool replacing = s.overwrite && !s.resume && fs::exists(s.out_path, ec);
  std::int64_t total = 0;
  if (replacing) {
    total = check_samples();
  } else {
    total = io::SampleReader(sample_paths(s)).count();
    if (s.max_samples >= 0) total = std::min(total, s.max_samples);
  }
  if (s.shard_count > 0) total = share_planned;
  if (total == 0 && s.shard_count == 0)
    throw std::runtime_error((s.prompts_path.empty() ? s.shards_path : s.prompts_path) + ": no samples to capture" +
                             (s.max_samples == 0 ? " (--max-samples 0)" : " (an empty prompt set?)"));

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
  {  // one head's trace: 1-2 chunks
    const auto tokens = sample_tokens(false);
    layout.chunk_tokens = store::schema::chunk_tokens_for_samples(tokens.empty() ? 0 : *std::max_element(tokens.begin(), tokens.end()));
  }
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
  auto settings_record = nlohmann::json::parse(settings_json(s, measure.embed_layer));
  settings_record["weights_fingerprint"] = weights_fingerprint(s.model_dir);
  if (measure.pre_rope_attention && !model->rope_tables(0, 1).cos.defined())
    settings_record["attention_note"] = "the model has no RoPE: its pre-RoPE attention is its attention";
  if (s.shard_count > 0)  // its place in the run (store/master.h): a master checks it, a resume must match it
    settings_record[store::schema::kShardSetting] = {{"index", s.shard_index}, {"count", s.shard_count}, {"samples", share_planned}};
  provenance.settings_json = settings_record.dump();

  if (choose_store_path()) {
    {  // checked before resume() touches the file
      const auto stored = store::StoreReader::open(write_path);
      if (stored->layout().layer_count != config.layer_count || stored->layout().head_count != config.head_count)
        throw std::runtime_error(write_path + ": the store was captured from a model of another shape; cannot resume with " + s.model_dir);
      const auto differences = resume_differences(stored->layout(), stored->provenance(), layout, provenance);
      if (!differences.empty()) {
        std::string message = write_path + ": cannot resume, this run differs from the one that made the store:";
        for (const auto& difference : differences) message += "\n  " + difference;
        throw std::runtime_error(message + "\n(capture into a new file, or repeat the store's own settings: `headscope inspect` shows them)");
      }
    }
    writer = store::StoreWriter::resume(write_path);
    for (const auto& id : writer->sample_ids()) done_ids.insert(id);
  } else {
    writer = store::StoreWriter::create(write_path, layout, provenance, write_path != s.out_path || s.overwrite);
  }
  std::lock_guard<std::mutex> lock(progress_mutex);
  progress.samples_total = total;
}

// The writer thread's last step: complete only when every requested sample is stored; a replacing run's
// partial is renamed over OUT then, and only then.
void CaptureSession::Impl::finish_store() {
  bool complete = false;
  {
    std::lock_guard<std::mutex> lock(progress_mutex);
    complete = progress.error.empty() && reached_end;
  }
  writer->close(complete);
  if (complete && write_path != settings.out_path) store::rename_durably(write_path, settings.out_path);
  target_lock.reset();
  std::lock_guard<std::mutex> lock(progress_mutex);
  progress.complete = complete;
}

// What a user reads after a run that stopped early: where its samples are and how to continue.
std::string CaptureSession::Impl::resume_advice() const {
  const std::string stored = std::to_string(writer ? writer->sample_count() : 0);
  if (write_path != settings.out_path)
    return settings.out_path + " is unchanged; this run's " + stored + " samples are in " + write_path +
           ": `headscope capture ... --resume` continues it and replaces " + settings.out_path + " once it completes";
  return settings.out_path + " keeps its " + stored + " samples (marked incomplete): `headscope capture ... --resume` continues it";
}

// 2. One sample's input ----------------------------------------------------------------------------------
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
  const std::string where = this->where(prompt);
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
  // A continuous-thought model begins its thoughts after a begin-of-thought token: part of the prompt here.
  if (settings.mode == CaptureMode::latent && config.latent && config.latent->bot_id) ids.push_back(*config.latent->bot_id);
  for (auto id : ids)
    if (id < 0 || id >= config.vocab_size)
      throw std::runtime_error(where + "has token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(config.vocab_size));

  const int extra_steps = settings.mode == CaptureMode::generate ? settings.generate_tokens
                          : settings.mode == CaptureMode::latent ? settings.latent_steps : 0;
  check_sequence_length(config, static_cast<std::int64_t>(ids.size()) + extra_steps, where, physical_memory_bytes(),
                        settings.pinned_heads.size());

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
  record.embeddings.generated.assign(record.embeddings.span_start.size(), 0);
  // The generated chain's steps (generated_steps.h): spans of the store's step table marked generated, in
  // the metadata as capture.generated_spans, and averaged over like the prompt's spans.
  nlohmann::json generated_spans = nlohmann::json::array();
  if (settings.mode == CaptureMode::generate && tokenizer && token_count > prompt_length) {
    std::vector<std::int32_t> generated(all_ids.begin() + prompt_length, all_ids.end());
    const std::string text = tokenizer->decode(generated);
    std::vector<int> token_end_bytes;
    std::vector<std::int32_t> prefix;
    for (const auto id : generated) {
      prefix.push_back(id);
      const int bytes = static_cast<int>(std::min(tokenizer->decode(prefix).size(), text.size()));
      token_end_bytes.push_back(std::max(bytes, token_end_bytes.empty() ? 0 : token_end_bytes.back()));
    }
    for (const auto& step : analysis::detect_generated_steps(text, token_end_bytes)) {
      const int begin = prompt_length + step.begin, end = prompt_length + step.end;
      input.span_tokens.push_back({begin, end});
      record.embeddings.span_start.push_back(begin);
      record.embeddings.span_end.push_back(end);
      record.embeddings.labels.push_back(step.label);
      record.embeddings.generated.push_back(1);
      generated_spans.push_back({begin, end, step.label});
    }
  }
  {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.current_tokens = static_cast<std::int64_t>(all_ids.size());
    progress.current_layers_done = 0;
    progress.layer_count = model->config().layer_count;
  }
  measure_sample(*model, input, measure, record);
  {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.samples_measured += 1;
    progress.tokens_measured += progress.current_tokens;
    progress.current_tokens = 0;
    progress.current_layers_done = 0;
  }

  auto metadata = nlohmann::json::parse(prompt.metadata_json);
  metadata["capture"] = {{"mode", settings.mode == CaptureMode::generate ? "generate" : settings.mode == CaptureMode::latent ? "latent" : "teacher_forced"},
                         {"prompt_tokens", prompt_length}, {"span_tokens", span_tokens}, {"bos", bos && prompt.ids.empty()}};
  if (settings.mode == CaptureMode::generate) metadata["capture"]["generated_spans"] = generated_spans;
  if (!prompt.text.empty()) metadata["text"] = prompt.text;
  record.metadata_json = metadata.dump();
  return record;
}

// 3. Threads ---------------------------------------------------------------------------------------------
void CaptureSession::Impl::run_model() {
  try {
    io::SampleReader reader(sample_paths(settings));
    std::int64_t taken = 0;  // ids were checked unique by check_samples()
    bool took_all = false;
    while (!cancel_requested) {
      if ((settings.max_samples >= 0 && taken >= settings.max_samples) || taken >= share_end) { took_all = true; break; }
      auto prompt = reader.next();
      if (!prompt) { took_all = true; break; }
      if (taken++ < share_begin) continue;  // an earlier shard's sample
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
    std::lock_guard<std::mutex> lock(queue_mutex);
    reached_end = took_all;
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
    finish_store();
  } catch (const std::exception& e) {
    fail(e.what());
    writer->abandon();  // after a failed write (a full disk): no HDF5 call on the file again; it resumes
    target_lock.reset();
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
  impl_->writer_thread = std::thread([this] {
    h5::quiet_errors();  // per thread: HDF5's error printing is a thread's own setting
    impl_->run_writer();
  });
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
  if (copy.running) {
    // While running, the rate and ETA count the model thread's work, the sample in hand by its layers.
    copy.elapsed_seconds = std::chrono::duration<double>(Clock::now() - impl_->started).count();
    const double fraction = copy.layer_count > 0 ? static_cast<double>(copy.current_layers_done) / copy.layer_count : 0.0;
    const double samples = static_cast<double>(copy.samples_measured) + fraction;
    copy.tokens_per_second = (static_cast<double>(copy.tokens_measured) + fraction * static_cast<double>(copy.current_tokens)) /
                             std::max(1e-9, copy.elapsed_seconds);
    copy.eta_seconds = samples > 0 ? copy.elapsed_seconds / samples * std::max(0.0, static_cast<double>(copy.samples_total) - samples) : -1;
  }
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
  if (!error.empty()) throw std::runtime_error(error + "\n" + impl_->resume_advice());
}

std::string CaptureSession::resume_advice() const { return impl_->resume_advice(); }

}  // namespace headscope::capture
