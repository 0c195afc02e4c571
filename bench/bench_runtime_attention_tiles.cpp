// The attention-matrix view's recompute at long lengths (issue 16): for one token sequence, the one-time
// forward pass that caches every layer's queries and keys, then the first tile of other heads as the view
// asks for them after a head is selected — zoomed out (256 strided queries × every key, the widest tile)
// and zoomed in (256 × 256 exact cells at the end of the sample).
//   bench_runtime_attention_tiles MODEL_DIR TOKENS [--threads N]
// Prints one line per measurement; bench/run_view_long_bench.sh runs it beside the frame-time benchmark.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "capture/session/recompute.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_runtime_attention_tiles MODEL_DIR TOKENS [--threads N]\n");
    return 2;
  }
  const std::string model = argv[1];
  const int tokens = std::stoi(argv[2]);
  const int threads = argc >= 5 && std::string(argv[3]) == "--threads" ? std::stoi(argv[4]) : 0;
  try {
    headscope::capture::AttentionRecomputer recompute(model, "cpu", "auto", threads);
    std::vector<std::int32_t> ids;
    for (int t = 0; t < tokens; ++t) ids.push_back(3 + (t * 7919) % 5000);
    const int tile = 256, stride = std::max(1, (tokens + tile - 1) / tile);
    std::vector<int> strided, last;
    for (int r = 0; r < tokens; r += stride) strided.push_back(r);
    for (int r = std::max(0, tokens - tile); r < tokens; ++r) last.push_back(r);
    auto start = Clock::now();
    recompute.head_attention_tile(ids, {0, 0}, strided, 0, tokens);
    std::printf("%s %d tokens: one-time forward pass + first tile: %.0f ms\n", model.c_str(), tokens, ms_since(start));
    const int layers = recompute.layer_count(), heads = recompute.head_count();
    double worst_out = 0, worst_in = 0, sum_out = 0, sum_in = 0;
    const int picks = 6;
    for (int i = 1; i <= picks; ++i) {
      const headscope::store::HeadRef head{(i * 7) % layers, (i * 5) % heads};
      start = Clock::now();
      recompute.head_attention_tile(ids, head, strided, 0, tokens);
      const double out = ms_since(start);
      start = Clock::now();
      recompute.head_attention_tile(ids, head, last, std::max(0, tokens - tile), tokens);
      const double in = ms_since(start);
      worst_out = std::max(worst_out, out), worst_in = std::max(worst_in, in), sum_out += out, sum_in += in;
    }
    std::printf("first tile after selecting a head (forward cached), %d heads: zoomed out (%zu queries x %d keys) mean %.1f ms, "
                "max %.1f ms; zoomed in (256 x 256) mean %.1f ms, max %.1f ms\n",
                picks, strided.size(), tokens, sum_out / picks, worst_out, sum_in / picks, worst_in);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_runtime_attention_tiles: %s\n", e.what());
    return 1;
  }
  return 0;
}
