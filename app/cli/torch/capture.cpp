// `headscope capture`: run a model over a prompt set and stream every head's per-token metrics into a
// store, with progress (samples, tokens/s, ETA) on the terminal; Ctrl-C stops after the current sample
// and leaves a store that `--resume` continues.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include "app/cli/registry.h"
#include "capture/session/capture_session.h"

namespace {

volatile std::sig_atomic_t interrupted = 0;
void on_interrupt(int) { interrupted = 1; }

std::string format_seconds(double seconds) {
  if (seconds < 0) return "?";
  char buffer[32];
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%dh%02dm", s / 3600, (s / 60) % 60);
  else std::snprintf(buffer, sizeof buffer, "%dm%02ds", s / 60, s % 60);
  return buffer;
}

std::vector<headscope::store::HeadRef> parse_heads(const std::string& text) {
  std::vector<headscope::store::HeadRef> heads;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    if (item.empty()) continue;
    auto head = headscope::store::parse_head_name(item);
    if (!head) throw std::runtime_error("--pin: '" + item + "' is not a head (write L:H or L3H5)");
    heads.push_back(*head);
  }
  return heads;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("capture", "Run a model over prompts and store every head's metrics at every token");
  auto s = std::make_shared<headscope::capture::CaptureSettings>();
  auto pins = std::make_shared<std::string>();
  auto flow = std::make_shared<std::string>("last");
  cmd->add_option("--model", s->model_dir, "HuggingFace model folder (config.json, *.safetensors, tokenizer)")->required();
  auto* prompts = cmd->add_option("--prompts", s->prompts_path, "Prompt set, JSONL with 'text' (or 'ids'), optional id, level, spans");
  auto* shards = cmd->add_option("--shards", s->shards_path, "Token shards: an .npz with an int32 [n, seq] array, or a folder of them");
  prompts->excludes(shards);
  shards->excludes(prompts);
  cmd->add_option("--out", s->out_path, "Store to write (.h5)")->required();
  cmd->add_option("--generate", s->generate_tokens, "Generate N new tokens after each prompt and measure every step");
  cmd->add_option("--seed", s->seed, "Sample with this seed instead of greedy decoding")->each([s](const std::string&) { s->greedy = false; });
  cmd->add_option("--temperature", s->temperature, "Sampling temperature");
  cmd->add_option("--latent", s->latent_steps, "Latent loop: K steps feeding the last hidden state back as the next input");
  cmd->add_option("--flow", *flow,
                  "K flow positions: 'last' (last K), 'latent' (the latent steps), 'marker:ID' (last K of token ID), "
                  "or explicit positions '3,7,-1'");
  cmd->add_option("--flow-size", s->flow_size, "K of the flow matrices (0: none)");
  cmd->add_option("--pin", *pins, "Store full attention of these heads, e.g. 0:1,3:5");
  cmd->add_option("--device", s->device, "cpu, cuda or cuda:N");
  cmd->add_option("--dtype", s->dtype, "auto (default: as stored), float32, float16 or bfloat16");
  cmd->add_option("--threads", s->threads, "CPU threads (0: all cores)");
  cmd->add_option("--jsd-window", s->jsd_window, "w of the windowed JSD");
  cmd->add_option("--connectivity-threshold", s->connectivity_threshold, "theta of the connectivity metric");
  cmd->add_option("--embed-layer", s->embed_layer, "Layer whose output is averaged over labelled spans (-1: middle)");
  cmd->add_option("--max-samples", s->max_samples, "Only the first N prompts");
  cmd->add_flag("--float32", s->float32_metrics, "Store metrics as float32 instead of float16");
  cmd->add_option("--mantissa-bits", s->mantissa_bits,
                  "Opt-in lossy metric precision: keep this many mantissa bits (float16 0..10; 7 keeps 0.4 %, about halves the file)");
  cmd->add_flag("--resume", s->resume, "Continue an interrupted store, skipping the samples it holds");
  cmd->add_flag("--overwrite", s->overwrite, "Replace an existing store");
  cmd->add_flag("!--no-bos", s->add_bos, "Do not prepend the tokenizer's BOS token");
  cmd->callback([s, pins, flow] {
    using headscope::capture::CaptureMode;
    using headscope::capture::FlowSelect;
    s->command_line = headscope::cli::command_line();
    if (s->prompts_path.empty() && s->shards_path.empty()) throw std::runtime_error("capture needs --prompts FILE or --shards FILE|DIR");
    s->pinned_heads = parse_heads(*pins);
    if (s->latent_steps > 0) s->mode = CaptureMode::latent;
    else if (s->generate_tokens > 0) s->mode = CaptureMode::generate;
    if (*flow == "last") s->flow_select = FlowSelect::last_k;
    else if (*flow == "latent") s->flow_select = FlowSelect::latent_steps;
    else if (flow->rfind("marker:", 0) == 0) { s->flow_select = FlowSelect::marker_token; s->flow_marker_id = std::stoi(flow->substr(7)); }
    else {
      s->flow_select = FlowSelect::explicit_positions;
      std::stringstream list(*flow);
      for (std::string item; std::getline(list, item, ',');) s->flow_positions.push_back(std::stoi(item));
    }
    headscope::capture::CaptureSession session(*s);
    session.start();
    std::signal(SIGINT, on_interrupt);
    std::fprintf(stderr, "capturing %s -> %s\n", (s->prompts_path.empty() ? s->shards_path : s->prompts_path).c_str(),
                 s->out_path.c_str());
    while (session.progress().running) {
      if (interrupted) {
        session.cancel();
        interrupted = 0;
        std::fprintf(stderr, "\nstopping after the current sample...\n");
      }
      const auto p = session.progress();
      const std::string skipped = p.samples_skipped ? " (+" + std::to_string(p.samples_skipped) + " already stored)" : "";
      std::fprintf(stderr, "\r  %lld/%lld samples%s  %.0f tokens/s  elapsed %s  eta %s   ", static_cast<long long>(p.samples_done),
                   static_cast<long long>(p.samples_total), skipped.c_str(), p.tokens_per_second,
                   format_seconds(p.elapsed_seconds).c_str(), format_seconds(p.eta_seconds).c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    session.wait();
    auto p = session.progress();
    std::fprintf(stderr, "\n%s %lld samples, %lld tokens in %s (%.1f tokens/s) -> %s\n",
                 p.cancelled ? "cancelled after" : "captured", static_cast<long long>(p.samples_done),
                 static_cast<long long>(p.tokens_done), format_seconds(p.elapsed_seconds).c_str(),
                 p.elapsed_seconds > 0 ? static_cast<double>(p.tokens_done) / p.elapsed_seconds : 0.0,
                 s->out_path.c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
