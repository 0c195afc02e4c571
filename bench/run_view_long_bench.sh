#!/usr/bin/env bash
# The workbench at 32k tokens (issue 16): frame time of the default layout at 1600×900 under Xvfb
# (--bench-frames) on a 512-token and a 32,768-token sample of one synthetic store with Qwen2.5-0.5B's
# shape (24 layers × 14 heads, `headscope make-demo-store --sample-tokens 512,32768`), side by side; then
# the attention-matrix recompute: one forward pass over a sequence of TILE_TOKENS tokens of a random
# Qwen2.5-0.5B-shaped checkpoint, and the first tile of other heads once it is cached.
#   bench/run_view_long_bench.sh [BUILD_DIR]   (env: FRAMES=200, TILE_TOKENS=2048, THREADS=nproc)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
frames=${FRAMES:-200}
tile_tokens=${TILE_TOKENS:-2048}
threads=${THREADS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=$(date +%s.%N)
"$build/headscope" make-demo-store "$work/long.h5" --layers 24 --heads 14 --sample-tokens 512,32768 >/dev/null
printf 'demo store (24 x 14 heads, samples of 512 and 32768 tokens): %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
declare -A fps
for sample in 0 1; do
  line=$(xvfb-run -a -s "-screen 0 1600x900x24" "$build/headscope" view "$work/long.h5" --sample "$sample" \
           --size 1600x900 --bench-frames "$frames" 2>&1 | grep 'frame time' || true)
  fps[$sample]="$line"
done
printf '%-14s %s\n' "512 tokens:" "${fps[0]#bench: }" "32768 tokens:" "${fps[1]#bench: }"

"$build/bench/bench_runtime" --make-real qwen2.5-0.5b "$work/qwen" >/dev/null
"$build/bench/bench_runtime_attention_tiles" "$work/qwen" "$tile_tokens" --threads "$threads"
