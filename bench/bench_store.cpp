// Store benchmark: a store shaped like a real capture (32 layers x 32 heads, 512 tokens a sample,
// 8 per-token metrics, float16), for several chunk shapes side by side. Prints append throughput,
// bytes per stored metric value, the latency of reading one head's 512-token trace (cold: first read
// by a fresh reader; warm: read again), and resident memory after 100 and 1,000 samples.
//   bench_store [--samples N] [--dir DIR] [--chunks 64,256,512] [--deflate 1] [--mantissa-bits 8,7,6]
//   bench_store --trace-of FILE | --compare-traces FILE_A FILE_B   (see those functions)
// The metric values are synthetic but shaped like real ones (per-head levels, smooth drift over tokens,
// integer k90/connectivity, NaN IAF on prompt tokens), since compression depends on that structure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/store/reader.h"
#include "core/store/writer.h"

using namespace headscope::store;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kLayers = 32, kHeads = 32, kTokens = 512, kPrompt = 320;

double resident_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

StoreLayout bench_layout(int chunk_tokens, int deflate, int mantissa_bits = -1) {
  StoreLayout layout;
  layout.layer_count = kLayers;
  layout.head_count = kHeads;
  for (const char* name : {"query_norm", "entropy", "max_attention", "k90", "iaf", "jsd", "connectivity", "received_attention"})
    layout.metrics.push_back(standard_metric(name));
  layout.chunk_tokens = chunk_tokens;
  layout.deflate_level = deflate;
  layout.mantissa_bits = mantissa_bits;
  return layout;
}

// One sample's metrics [metric][token, layer, head], structured like a real capture.
class SyntheticCapture {
 public:
  explicit SyntheticCapture(unsigned seed) : rng_(seed) {
    std::uniform_real_distribution<float> u(0, 1);
    for (int h = 0; h < kLayers * kHeads; ++h) {
      sharpness_[h] = u(rng_);
      query_level_[h] = 5 + 25 * u(rng_);
    }
  }
  SampleRecord next(int index) {
    SampleRecord s;
    s.id = "problem-" + std::to_string(index);
    s.prompt_length = kPrompt;
    s.tokens.resize(kTokens);
    for (int t = 0; t < kTokens; ++t) s.tokens[t] = static_cast<int>(rng_() % 50000);
    const std::size_t per_token = kLayers * kHeads;
    s.metrics.assign(8, std::vector<float>(kTokens * per_token));
    std::normal_distribution<float> noise(0, 1);
    std::uniform_real_distribution<float> u(0, 1);
    for (std::size_t h = 0; h < per_token; ++h) {
      float drift = 0, telegraph = u(rng_) < 0.5f ? 0.9f : 0.1f;
      for (int t = 0; t < kTokens; ++t) {
        drift = 0.9f * drift + 0.1f * noise(rng_);
        const float max_entropy = std::log(static_cast<float>(t + 1));
        const float entropy = std::clamp((1 - sharpness_[h]) * max_entropy + 0.3f * drift, 0.0f, max_entropy);
        const std::size_t at = t * per_token + h;
        s.metrics[0][at] = query_level_[h] + 0.8f * drift + 0.2f * noise(rng_);
        s.metrics[1][at] = entropy;
        s.metrics[2][at] = std::clamp(std::exp(-entropy) + 0.05f * noise(rng_), 1.0f / (t + 1), 1.0f);
        s.metrics[3][at] = std::max(1.0f, std::round(0.9f * std::exp(entropy)));
        if (t >= kPrompt && u(rng_) < 0.05f) telegraph = telegraph > 0.5f ? 0.1f : 0.9f;
        s.metrics[4][at] = t < kPrompt ? std::nanf("") : std::clamp(telegraph + 0.05f * noise(rng_), 0.0f, 1.0f);
        s.metrics[5][at] = t == 0 ? 0.0f : std::fabs(0.05f * noise(rng_)) * (1 + sharpness_[h]);
        s.metrics[6][at] = std::max(1.0f, std::round(3 * (1 - sharpness_[h]) + 0.5f * noise(rng_)));
        s.metrics[7][at] = t == 0 ? kTokens * sharpness_[h] : std::fabs(1 + drift) * (kTokens - t) / kTokens;
      }
    }
    return s;
  }

 private:
  std::mt19937 rng_;
  float sharpness_[kLayers * kHeads];
  float query_level_[kLayers * kHeads];
};

std::vector<int> int_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) values.push_back(std::stoi(item));
  return values;
}

// Writes `samples` appends (the records in turn, renamed) into a new file; returns the seconds taken.
double write_store(const std::string& path, const StoreLayout& layout, const std::vector<SampleRecord>& records, int samples) {
  std::filesystem::remove(path);
  auto writer = StoreWriter::create(path, layout, {});
  const auto start = Clock::now();
  for (int i = 0; i < samples; ++i) {
    auto record = records[i % records.size()];
    record.id = "problem-" + std::to_string(i);
    writer->append(record);
  }
  writer->close();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct TraceTiming { double cold_ms, warm_ms; };

TraceTiming time_trace_reads(const std::string& path, std::int64_t samples) {
  std::mt19937 rng(7);
  double cold = 0, warm = 0;
  const int reads = 50;
  for (int r = 0; r < reads; ++r) {
    auto reader = StoreReader::open(path);  // fresh reader: no chunk cached
    const std::int64_t sample = static_cast<std::int64_t>(rng() % samples);
    const HeadRef head{static_cast<int>(rng() % kLayers), static_cast<int>(rng() % kHeads)};
    auto start = Clock::now();
    auto trace = reader->head_trace("entropy", sample, head);
    cold += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    start = Clock::now();
    for (int again = 0; again < 10; ++again) trace = reader->head_trace("entropy", sample, head);
    warm += std::chrono::duration<double, std::milli>(Clock::now() - start).count() / 10;
    if (trace.size() != static_cast<std::size_t>(kTokens)) std::fprintf(stderr, "bad trace length\n");
  }
  return {cold / reads, warm / reads};
}

}  // namespace

// `--trace-of FILE`: the chunk shape of /metrics/entropy and cold / warm reads of 20 heads' traces over
// the file's longest sample (a 32k-token demo store: headscope make-demo-store --sample-tokens 512,32768).
int time_long_traces(const std::string& path) {
  auto reader = StoreReader::open(path);
  std::int64_t longest = 0;
  for (std::int64_t s = 0; s < reader->sample_count(); ++s)
    if (reader->sample(s).token_count > reader->sample(longest).token_count) longest = s;
  const auto& layout = reader->layout();
  std::mt19937 rng(11);
  double cold = 0, warm = 0;
  const int reads = 20;
  for (int r = 0; r < reads; ++r) {
    auto fresh = StoreReader::open(path);
    const HeadRef head{static_cast<int>(rng() % layout.layer_count), static_cast<int>(rng() % layout.head_count)};
    auto start = Clock::now();
    auto trace = fresh->head_trace("entropy", longest, head);
    cold += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    start = Clock::now();
    trace = fresh->head_trace("entropy", longest, head);
    warm += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  const auto info = reader->sample(longest);
  const std::int64_t chunks = (info.token_start + info.token_count - 1) / layout.chunk_tokens - info.token_start / layout.chunk_tokens + 1;
  std::printf("%s: sample %lld (%d tokens), chunk_tokens %d: one head's trace spans %lld chunks; read cold %.2f ms, warm %.2f ms\n",
              path.c_str(), static_cast<long long>(longest), info.token_count, layout.chunk_tokens, static_cast<long long>(chunks),
              cold / reads, warm / reads);
  return 0;
}

// `--compare-traces A B`: the same 200 (sample, head) entropy traces read through two stores of the same
// run, cold (a fresh reader each, so every chunk comes from the file) and warm, interleaved A, B, A, B so
// the machine's noise falls on both: a single file against a master of virtual datasets over shards.
int compare_traces(const std::string& a, const std::string& b) {
  const auto probe = StoreReader::open(a);
  const auto& layout = probe->layout();
  std::mt19937 rng(17);
  const int reads = 200;
  double open_ms[2] = {0, 0}, cold[2] = {0, 0}, warm[2] = {0, 0};
  for (int r = 0; r < reads; ++r) {
    const std::int64_t sample = static_cast<std::int64_t>(rng() % static_cast<unsigned>(probe->sample_count()));
    const HeadRef head{static_cast<int>(rng() % layout.layer_count), static_cast<int>(rng() % layout.head_count)};
    const std::string* paths[2] = {&a, &b};
    for (int f = 0; f < 2; ++f) {
      auto start = Clock::now();
      auto reader = StoreReader::open(*paths[f]);
      open_ms[f] += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      start = Clock::now();
      auto trace = reader->head_trace("entropy", sample, head);
      cold[f] += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      start = Clock::now();
      trace = reader->head_trace("entropy", sample, head);
      warm[f] += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
  }
  for (int f = 0; f < 2; ++f)
    std::printf("%-40s open %.2f ms, trace read cold %.3f ms, warm %.3f ms\n", (f ? b : a).c_str(), open_ms[f] / reads, cold[f] / reads,
                warm[f] / reads);
  std::printf("second / first: open %.2fx, cold read %.2fx, warm read %.2fx\n", open_ms[1] / open_ms[0], cold[1] / cold[0], warm[1] / warm[0]);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && !std::strcmp(argv[1], "--trace-of")) return time_long_traces(argv[2]);
  if (argc == 4 && !std::strcmp(argv[1], "--compare-traces")) return compare_traces(argv[2], argv[3]);
  int samples = 100, long_samples = 1000, deflate = 1;
  std::string dir = "/tmp/headscope-bench-store";
  std::vector<int> chunks{64, 256, 512};
  std::vector<int> mantissa_bits{8, 7, 6};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--samples")) samples = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--long-samples")) long_samples = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--deflate")) deflate = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--chunks")) chunks = int_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--mantissa-bits")) mantissa_bits = int_list(argv[i + 1]);
  }
  std::filesystem::create_directories(dir);
  std::printf("store benchmark: %d layers x %d heads, %d tokens/sample, 8 metrics float16, shuffle+deflate %d, %d samples\n",
              kLayers, kHeads, kTokens, deflate, samples);
  std::printf("(earlier pipeline's per-token CSV: ~5.7 bytes per metric value)\n\n");
  std::printf("%-14s %12s %14s %14s %14s %14s\n", "chunk", "samples/s", "raw MB/s", "bytes/value", "trace cold ms", "trace warm ms");
  // Pre-generate the samples so generation time stays out of the append figure.
  SyntheticCapture capture(42);
  std::vector<SampleRecord> records;
  for (int i = 0; i < std::min(samples, 100); ++i) records.push_back(capture.next(i));
  for (int chunk : chunks) {
    const std::string path = dir + "/chunk" + std::to_string(chunk) + ".h5";
    const double seconds = write_store(path, bench_layout(chunk, deflate), records, samples);
    auto reader = StoreReader::open(path);
    std::uint64_t stored = 0;
    for (const auto& metric : reader->layout().metrics) stored += reader->metric_storage_bytes(metric.name);
    const double values = 8.0 * samples * kTokens * kLayers * kHeads;
    const auto timing = time_trace_reads(path, samples);
    std::printf("[%4d, 1, %2d] %12.2f %14.1f %14.3f %14.3f %14.3f\n", chunk, kHeads, samples / seconds,
                values * 4 / seconds / 1e6, stored / values, timing.cold_ms, timing.warm_ms);
    std::printf("    per metric bytes/value:");
    for (const auto& metric : reader->layout().metrics)
      std::printf(" %s %.2f", metric.name.c_str(),
                  reader->metric_storage_bytes(metric.name) / (values / 8));
    std::printf("\n");
    std::fflush(stdout);
    std::filesystem::remove(path);
  }

  // Opt-in lossy precision (StoreLayout::mantissa_bits) at the default chunk: bytes per value, and the
  // largest relative error read back over every value of the first sample.
  if (!mantissa_bits.empty()) {
    const int chunk = StoreLayout{}.chunk_tokens;
    std::printf("\nopt-in precision (--mantissa-bits in capture), chunk %d:\n%-14s %14s %18s %14s\n", chunk, "mantissa bits",
                "bytes/value", "max rel. error", "samples/s");
    for (int bits : mantissa_bits) {
      const std::string path = dir + "/bits" + std::to_string(bits) + ".h5";
      const double seconds = write_store(path, bench_layout(chunk, deflate, bits), records, samples);
      auto reader = StoreReader::open(path);
      std::uint64_t stored = 0;
      double worst = 0;
      for (std::size_t m = 0; m < reader->layout().metrics.size(); ++m) {
        const auto& name = reader->layout().metrics[m].name;
        stored += reader->metric_storage_bytes(name);
        for (int layer = 0; layer < kLayers; ++layer) {
          const auto slice = reader->layer_slice(name, 0, layer);
          for (int t = 0; t < kTokens; ++t)
            for (int h = 0; h < kHeads; ++h) {
              const float given = records[0].metrics[m][(static_cast<std::size_t>(t) * kLayers + layer) * kHeads + h];
              const float got = slice[static_cast<std::size_t>(t) * kHeads + h];
              if (std::isfinite(given) && std::fabs(given) > 1e-4f) worst = std::max(worst, static_cast<double>(std::fabs(got - given) / std::fabs(given)));
            }
        }
      }
      std::printf("%-14d %14.3f %17.3f%% %14.2f\n", bits, stored / (8.0 * samples * kTokens * kLayers * kHeads), 100 * worst,
                  samples / seconds);
      std::fflush(stdout);
      std::filesystem::remove(path);
    }
  }

  // Memory stays flat: resident memory after 100 and after long_samples appends (default chunking).
  if (long_samples > 0) {
    const std::string path = dir + "/long.h5";
    std::filesystem::remove(path);
    StoreLayout layout = bench_layout(StoreLayout{}.chunk_tokens, deflate);
    auto writer = StoreWriter::create(path, layout, {});
    std::printf("\nresident memory while appending (chunk %d, records pre-generated: %.0f MiB of them):\n",
                layout.chunk_tokens, records.size() * 8.0 * kTokens * kLayers * kHeads * 4 / (1 << 20));
    auto start = Clock::now();
    for (int i = 0; i < long_samples; ++i) {
      auto& record = records[i % records.size()];
      record.id = "problem-" + std::to_string(i);
      writer->append(record);
      if (i + 1 == 1 || i + 1 == 100 || (i + 1) % 250 == 0 || i + 1 == long_samples)
        std::printf("  after %5d samples: %8.1f MiB resident, %.1f s\n", i + 1, resident_mib(),
                    std::chrono::duration<double>(Clock::now() - start).count());
      std::fflush(stdout);
    }
    writer->close();
    std::printf("  file: %.2f GiB for %d samples\n", std::filesystem::file_size(path) / double(1 << 30), long_samples);
    std::filesystem::remove(path);
  }
  return 0;
}
