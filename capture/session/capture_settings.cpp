// capture_settings (see capture_session.h): `headscope capture`'s command struct (core/commands/) to the
// session's settings — the decisions the CLI used to make, so every launcher gets the same ones.
#include <charconv>
#include <sstream>
#include <stdexcept>

#include "capture/session/capture_session.h"
#include "core/util/shares.h"

namespace headscope::capture {

namespace {

// A whole decimal integer of `text`, or std::invalid_argument naming --flow and what was expected.
int flow_integer(const std::string& text, const std::string& flow, const char* what) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    throw std::invalid_argument("--flow '" + flow + "': '" + text + "' is not " + what +
                                " (expected last, latent, marker:ID or positions like 3,7,-1)");
  return value;
}

void select_flow(const std::string& flow, CaptureSettings& s) {
  if (flow == "last") {
    s.flow_select = FlowSelect::last_k;
  } else if (flow == "latent") {
    s.flow_select = FlowSelect::latent_steps;
  } else if (flow.rfind("marker:", 0) == 0) {
    s.flow_select = FlowSelect::marker_token;
    s.flow_marker_id = flow_integer(flow.substr(7), flow, "a token id");
    if (s.flow_marker_id < 0) throw std::invalid_argument("--flow '" + flow + "': a token id is not negative");
  } else {
    s.flow_select = FlowSelect::explicit_positions;
    std::stringstream list(flow);
    for (std::string item; std::getline(list, item, ',');) s.flow_positions.push_back(flow_integer(item, flow, "a position"));
    if (s.flow_positions.empty()) flow_integer("", flow, "a position");
  }
}

}  // namespace

CaptureSettings capture_settings(const commands::CaptureCommand& command, const std::string& command_line) {
  if (command.prompts_path.empty() && command.shards_path.empty())
    throw std::runtime_error("capture needs --prompts FILE or --shards FILE|DIR");
  commands::check_option_ranges(command);
  CaptureSettings s;
  s.model_dir = command.model_dir;
  s.prompts_path = command.prompts_path;
  s.shards_path = command.shards_path;
  s.out_path = command.out_path;
  s.generate_tokens = command.generate_tokens;
  s.latent_steps = command.latent_steps;
  if (s.latent_steps > 0) s.mode = CaptureMode::latent;
  else if (s.generate_tokens > 0) s.mode = CaptureMode::generate;
  s.greedy = !command.seed.has_value();
  s.seed = command.seed.value_or(0);
  s.temperature = command.temperature;
  s.flow_size = command.flow_size;
  select_flow(command.flow, s);
  s.pinned_heads = command.pinned_heads;
  s.device = command.device;
  s.dtype = command.dtype;
  s.adapter = command.adapter;
  s.threads = command.threads;
  s.attention_budget_bytes = static_cast<std::uint64_t>(command.memory_budget_mib) << 20;
  s.resume = command.resume;
  s.overwrite = command.overwrite;
  if (!command.shard.empty()) {
    const auto shard = util::parse_shard(command.shard);
    if (!shard) throw std::runtime_error("--shard " + command.shard + ": expected I/N with 0 <= I < N (e.g. 0/4)");
    s.shard_index = shard->index;
    s.shard_count = shard->count;
  }
  s.add_bos = command.add_bos;
  s.jsd_window = command.jsd_window;
  s.connectivity_threshold = command.connectivity_threshold;
  const auto attention = store::parse_attention_mode(command.attention);
  if (!attention)
    throw std::invalid_argument("--attention '" + command.attention + "': expected one of " + store::attention_mode_names());
  s.attention = *attention;
  s.nan_first = command.nan_first;
  s.embed_layer = command.embed_layer;
  s.max_samples = command.max_samples;
  s.float32_metrics = command.float32_metrics;
  s.mantissa_bits = command.mantissa_bits;
  s.command_line = command_line;
  return s;
}

}  // namespace headscope::capture
