// Capture throughput and memory, side by side in one run on the same model and prompts:
//   plain     a forward pass with no probes (our runtime computes attention explicitly anyway)
//   explicit  the same with every layer's attention probabilities and queries copied off the device
//   capture   the full capture into a store (metrics, summaries, flow, float16, SWMR appends)
// and resident memory after 100 and after N samples of a long capture (flat), and bytes on disk per
// sample. bench/run_capture_bench.sh adds the earlier pipelines' Python/CSV baseline to the table.
//   bench_capture --model DIR --samples N --seq S [--threads T] --work DIR [--memory-samples M]
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "capture/model/model_torch.h"
#include "capture/session/capture_session.h"
#include "core/store/reader.h"

namespace hm = headscope::model;
namespace hc = headscope::capture;
using Clock = std::chrono::steady_clock;

namespace {

double resident_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

std::vector<std::vector<std::int64_t>> make_prompts(int count, int seq, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<std::int64_t>> prompts(count, std::vector<std::int64_t>(seq));
  for (auto& p : prompts)
    for (auto& id : p) id = static_cast<std::int64_t>(rng() % static_cast<unsigned>(vocab));
  return prompts;
}

void write_prompts(const std::string& path, const std::vector<std::vector<std::int64_t>>& prompts) {
  std::ofstream out(path);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    out << "{\"id\": \"s" << i << "\", \"ids\": [";
    for (std::size_t t = 0; t < prompts[i].size(); ++t) out << (t ? "," : "") << prompts[i][t];
    out << "]}\n";
  }
}

class CopyingObserver : public hm::ProbeObserver {
 public:
  bool wants(const hm::ProbeSite& site) override {
    return site.point == hm::ProbePoint::pattern || site.point == hm::ProbePoint::q_pre;
  }
  void observe(const hm::ProbeSite&, const at::Tensor& value) override { last = value.to(at::kFloat).contiguous().cpu(); }
  at::Tensor last;
};

double time_forwards(hm::Model& model, const std::vector<std::vector<std::int64_t>>& prompts, hm::ProbeObserver* observer) {
  at::NoGradGuard no_grad;
  hm::ForwardOptions options;
  options.observer = observer;
  options.logits = hm::LogitsMode::none;
  const auto start = Clock::now();
  for (const auto& p : prompts)
    model.forward(at::tensor(p, at::TensorOptions().dtype(at::kLong)).unsqueeze(0).to(model.device()), nullptr, options);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

hc::CaptureSettings capture_settings(const std::string& model, const std::string& prompts, const std::string& out, int threads) {
  hc::CaptureSettings s;
  s.model_dir = model;
  s.prompts_path = prompts;
  s.out_path = out;
  s.overwrite = true;
  s.threads = threads;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  if (!flags.count("--model") || !flags.count("--work")) {
    std::fprintf(stderr, "usage: bench_capture --model DIR --work DIR [--samples N --seq S --threads T --memory-samples M]\n");
    return 2;
  }
  const std::string model_dir = flags["--model"], work = flags["--work"];
  const int samples = flags.count("--samples") ? std::stoi(flags["--samples"]) : 40;
  const int seq = flags.count("--seq") ? std::stoi(flags["--seq"]) : 256;
  const int threads = flags.count("--threads") ? std::stoi(flags["--threads"]) : static_cast<int>(std::thread::hardware_concurrency());
  const int memory_samples = flags.count("--memory-samples") ? std::stoi(flags["--memory-samples"]) : 2000;
  std::filesystem::create_directories(work);

  hm::LoadOptions load;
  load.threads = threads;
  auto model = hm::Model::load(model_dir, load);
  const auto& config = model->config();
  const auto prompts = make_prompts(samples, seq, config.vocab_size, 7);
  const std::string prompts_path = work + "/prompts.jsonl";
  write_prompts(prompts_path, prompts);
  const double tokens = static_cast<double>(samples) * seq;
  std::printf("model %s: %d layers x %d heads, hidden %d; %d samples x %d tokens; %d threads\n", model_dir.c_str(),
              config.layer_count, config.head_count, config.hidden_size, samples, seq, threads);

  time_forwards(*model, {prompts[0]}, nullptr);  // warm-up
  const double plain = time_forwards(*model, prompts, nullptr);
  CopyingObserver copier;
  const double explicit_attention = time_forwards(*model, prompts, &copier);
  const std::string store_path = work + "/capture.h5";
  auto start = Clock::now();
  {
    hc::CaptureSession session(capture_settings(model_dir, prompts_path, store_path, threads));
    session.start();
    session.wait();
  }
  const double capture = std::chrono::duration<double>(Clock::now() - start).count();
  auto reader = headscope::store::StoreReader::open(store_path);
  std::printf("%-34s %10s %12s %10s\n", "", "seconds", "tokens/s", "vs explicit");
  std::printf("%-34s %10.3f %12.1f %10.2f\n", "plain forward (no probes)", plain, tokens / plain, plain / explicit_attention);
  std::printf("%-34s %10.3f %12.1f %10.2f\n", "forward + attention copied out", explicit_attention, tokens / explicit_attention, 1.0);
  std::printf("%-34s %10.3f %12.1f %10.2f   (goal <= 1.5)\n", "full capture into the store", capture, tokens / capture,
              capture / explicit_attention);
  std::printf("store: %.0f bytes per sample (%llu bytes for %d samples, 9 metrics, float16, flow 6x6)\n",
              static_cast<double>(reader->file_bytes()) / samples, static_cast<unsigned long long>(reader->file_bytes()), samples);
  std::printf("HEADSCOPE_CAPTURE_SECONDS %.3f\nHEADSCOPE_STORE_BYTES %llu\n", capture, static_cast<unsigned long long>(reader->file_bytes()));
  std::fflush(stdout);

  if (memory_samples > 0) {
    const int short_seq = 64;
    const std::string long_prompts = work + "/long-prompts.jsonl";
    write_prompts(long_prompts, make_prompts(memory_samples, short_seq, config.vocab_size, 11));
    hc::CaptureSession session(capture_settings(model_dir, long_prompts, work + "/long.h5", threads));
    session.start();
    bool reported_100 = false;
    std::printf("resident memory over a %d-sample capture (%d tokens each):\n", memory_samples, short_seq);
    std::printf("  before: %.1f MiB\n", resident_mib());
    while (session.progress().running) {
      const auto p = session.progress();
      if (!reported_100 && p.samples_done >= 100) {
        std::printf("  after %lld samples: %.1f MiB\n", static_cast<long long>(p.samples_done), resident_mib());
        reported_100 = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    session.wait();
    std::printf("  after %lld samples: %.1f MiB (%.1f s)\n", static_cast<long long>(session.progress().samples_done), resident_mib(),
                session.progress().elapsed_seconds);
    std::filesystem::remove(work + "/long.h5");
  }
  return 0;
}
