// Benchmark of the per-token metric CSV importer: writes a 10-million-row CSV in the earlier pipeline's
// shape (28 layers x 16 heads, 256-token samples, empty entropies at positions 0 and 1) to /tmp, then
// times (1) the CSV reader alone and (2) the full import into a store, printing rows per second and the
// process's peak resident memory (getrusage ru_maxrss).
//   bench_core_import [--rows N] [--dir /tmp] [--keep]
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/io/import.h"
#include "core/io/metric_csv.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;  // ru_maxrss is in KiB on Linux
}

void append_float(std::string& out, float value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 6);
  out.append(buffer, result.ptr);
}

void append_int(std::string& out, long value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

std::uint64_t write_csv(const std::string& path, long rows, int layers, int heads, int tokens) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) { std::perror(path.c_str()); std::exit(1); }
  std::string block = "sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff\n";
  std::uint32_t state = 12345;
  auto next = [&] { state = state * 1664525u + 1013904223u; return (state >> 8) / 16777216.0f; };
  long written = 0;
  for (long sample = 0; written < rows; ++sample)
    for (int layer = 0; layer < layers && written < rows; ++layer)
      for (int head = 0; head < heads && written < rows; ++head)
        for (int pos = 0; pos < tokens && written < rows; ++pos, ++written) {
          block += "problem_";
          append_int(block, sample);
          block += ',';
          append_int(block, layer);
          block += ',';
          append_int(block, head);
          block += ',';
          append_int(block, pos);
          block += ',';
          append_float(block, 5 + 20 * next());
          block += ',';
          if (pos >= 2) append_float(block, 4 * next());
          block += ',';
          append_float(block, next());
          block += ',';
          append_int(block, 1 + static_cast<long>(next() * (pos + 1)));
          block += ".0\n";
          if (block.size() > (1 << 20)) { std::fwrite(block.data(), 1, block.size(), file); block.clear(); }
        }
  std::fwrite(block.data(), 1, block.size(), file);
  std::fclose(file);
  return std::filesystem::file_size(path);
}

}  // namespace

int main(int argc, char** argv) {
  long rows = 10'000'000;
  std::string dir = "/tmp";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rows") && i + 1 < argc) rows = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--keep")) keep = true;
  }
  const int layers = 28, heads = 16, tokens = 256;
  const std::string csv = dir + "/headscope-bench-import.csv", out = dir + "/headscope-bench-import.h5";
  auto start = std::chrono::steady_clock::now();
  const std::uint64_t bytes = write_csv(csv, rows, layers, heads, tokens);
  std::printf("wrote %ld rows (%.1f MiB) of %d layers x %d heads x %d tokens per sample in %.1f s: %s\n", rows,
              bytes / 1048576.0, layers, heads, tokens, seconds_since(start), csv.c_str());

  start = std::chrono::steady_clock::now();
  headscope::io::MetricCsvReader reader(csv);
  headscope::io::MetricCsvRow row;
  long parsed = 0;
  double checksum = 0;
  while (reader.next(row)) { ++parsed; checksum += row.max_attn; }
  const double parse_seconds = seconds_since(start);
  std::printf("parse only : %ld rows in %.2f s = %.2f M rows/s, %.0f MiB/s (checksum %.1f), peak RSS %ld MiB\n", parsed,
              parse_seconds, parsed / parse_seconds / 1e6, bytes / 1048576.0 / parse_seconds, checksum, peak_rss_mib());

  headscope::io::ImportOptions options;
  options.inputs = {csv};
  options.out = out;
  options.overwrite = true;
  options.command_line = "bench_core_import";
  start = std::chrono::steady_clock::now();
  const auto summary = headscope::io::import_csv(options);
  const double import_seconds = seconds_since(start);
  std::printf("full import: %lld rows, %lld samples in %.2f s = %.2f M rows/s, %.0f MiB/s of CSV; store %.1f MiB; peak RSS %ld MiB\n",
              static_cast<long long>(summary.rows), static_cast<long long>(summary.samples), import_seconds,
              summary.rows / import_seconds / 1e6, bytes / 1048576.0 / import_seconds,
              std::filesystem::file_size(out) / 1048576.0, peak_rss_mib());
  if (!keep) {
    std::filesystem::remove(csv);
    std::filesystem::remove(out);
  }
  return 0;
}
