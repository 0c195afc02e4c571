// Benchmark of the per-row attention metrics (core/analysis/attention_metrics.h): microseconds per
// 512-key row for the fused entropy + max + k90 pass against the same with a sort-based k90, side by
// side, on softmax rows of random logits at three sharpnesses. Also checks that both k90s agree. Then what
// a capture runs per head: one causal S x S head with all nine metrics (the JSDs and received attention
// included), microseconds per query row and nanoseconds per visible key.
// Run: build/bench/bench_core_metrics [rows] [causal S]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "core/analysis/attention_metrics.h"

namespace {

using headscope::analysis::HeadAttention;
using headscope::analysis::TokenMetricOptions;
using headscope::analysis::TokenMetricOutputs;

constexpr int kKeys = 512;

// [row, key] softmax rows of N(0, logit_scale^2) logits.
std::vector<float> softmax_rows(int row_count, double logit_scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(logit_scale));
  std::vector<float> rows(static_cast<std::size_t>(row_count) * kKeys);
  for (int r = 0; r < row_count; ++r) {
    float* row = rows.data() + static_cast<std::size_t>(r) * kKeys;
    float max_logit = -1e30f;
    for (int j = 0; j < kKeys; ++j) max_logit = std::max(max_logit, row[j] = normal(rng));
    float sum = 0;
    for (int j = 0; j < kKeys; ++j) sum += row[j] = std::exp(row[j] - max_logit);
    for (int j = 0; j < kKeys; ++j) row[j] /= sum;
  }
  return rows;
}

// The obvious method: entropy and max in one loop (std::log), k90 by copying, sorting and summing.
double sort_based(const std::vector<float>& rows, int row_count, std::vector<float>& out_k90) {
  std::vector<double> buffer(kKeys);
  double checksum = 0;
  for (int r = 0; r < row_count; ++r) {
    const float* row = rows.data() + static_cast<std::size_t>(r) * kKeys;
    double mass = 0, max_value = 0, p_log_p = 0;
    for (int j = 0; j < kKeys; ++j) {
      mass += row[j];
      max_value = std::max<double>(max_value, row[j]);
      if (row[j] > 0) p_log_p += row[j] * std::log(static_cast<double>(row[j]));
    }
    for (int j = 0; j < kKeys; ++j) buffer[j] = row[j] / mass;
    std::sort(buffer.begin(), buffer.end(), std::greater<double>());
    double cumulative = 0;
    int k90 = kKeys;
    for (int k = 0; k < kKeys; ++k) {
      cumulative += buffer[k];
      if (cumulative >= 0.9 - 1e-9) {
        k90 = k + 1;
        break;
      }
    }
    out_k90[r] = static_cast<float>(k90);
    checksum += std::log(mass) - p_log_p / mass + max_value / mass;
  }
  return checksum;
}

template <typename F>
double best_microseconds_per_row(F&& run, int row_count, int repeats) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const auto stop = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::micro>(stop - start).count() / row_count);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int row_count = argc > 1 ? std::atoi(argv[1]) : 4096;
  std::printf("per-row metrics, S = %d keys, %d rows, best of 7 (microseconds per row)\n", kKeys, row_count);
  std::printf("%-22s %14s %14s %10s %8s %9s\n", "rows (logit std)", "fused+hist", "sort-based", "speedup",
              "mean k90", "k90 agree");
  const std::vector<int> row_begin(static_cast<std::size_t>(row_count), 0);
  const std::vector<int> row_end(static_cast<std::size_t>(row_count), kKeys);
  for (double logit_scale : {0.5, 2.0, 4.0}) {
    const auto rows = softmax_rows(row_count, logit_scale, 1234u);
    std::vector<float> entropy(row_count), max_attention(row_count), k90(row_count), k90_sort(row_count);
    HeadAttention head;
    head.probs = rows.data();
    head.query_count = row_count;
    head.key_count = kKeys;
    head.row_key_begin = row_begin.data();
    head.row_key_end = row_end.data();
    TokenMetricOutputs outputs;
    outputs.entropy = entropy.data();
    outputs.max_attention = max_attention.data();
    outputs.k90 = k90.data();
    const TokenMetricOptions options;
    const double fused = best_microseconds_per_row(
        [&] { headscope::analysis::compute_token_metrics(head, options, outputs); }, row_count, 7);
    volatile double sink = 0;
    const double sorted = best_microseconds_per_row([&] { sink = sink + sort_based(rows, row_count, k90_sort); },
                                                    row_count, 7);
    double mean_k90 = 0;
    bool agree = true;
    for (int r = 0; r < row_count; ++r) {
      mean_k90 += k90[r] / row_count;
      agree = agree && k90[r] == k90_sort[r];
    }
    char label[32];
    std::snprintf(label, sizeof label, "softmax N(0,%.1f)", logit_scale);
    std::printf("%-22s %14.3f %14.3f %9.1fx %8.1f %9s\n", label, fused, sorted, sorted / fused, mean_k90,
                agree ? "yes" : "NO");
  }
  // What the capture runs per head and layer: a causal head with every metric.
  const int causal = argc > 2 ? std::atoi(argv[2]) : 590;
  std::vector<float> head_probs(static_cast<std::size_t>(causal) * causal, 0.0f);
  {
    std::mt19937 rng(99);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    for (int q = 0; q < causal; ++q) {
      float* row = head_probs.data() + static_cast<std::size_t>(q) * causal;
      float sum = 0;
      for (int j = 0; j <= q; ++j) sum += row[j] = std::exp(normal(rng));
      for (int j = 0; j <= q; ++j) row[j] /= sum;
    }
  }
  const std::size_t n = static_cast<std::size_t>(causal);
  std::vector<float> entropy(n), max_attention(n), k90(n), iaf(n), jsd(n), windowed(n), connectivity(n), received(n);
  HeadAttention head;
  head.probs = head_probs.data();
  head.query_count = head.key_count = causal;
  TokenMetricOutputs all;
  all.entropy = entropy.data();
  all.max_attention = max_attention.data();
  all.k90 = k90.data();
  all.input_attention_fraction = iaf.data();
  all.jsd_previous = jsd.data();
  all.windowed_jsd = windowed.data();
  all.connectivity = connectivity.data();
  all.received_attention = received.data();
  TokenMetricOptions options;
  options.prompt_length = causal / 2;
  options.jsd_window = 3;
  const double per_row = best_microseconds_per_row(
      [&] { headscope::analysis::compute_token_metrics(head, options, all); }, causal, 7);
  std::printf("\ncapture pass: one causal head, S = %d, all nine metrics: %.3f us per row, %.2f ns per visible key\n",
              causal, per_row, per_row * 1000.0 * causal / (0.5 * causal * (causal + 1)));
  return 0;
}
