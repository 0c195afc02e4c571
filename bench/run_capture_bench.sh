#!/usr/bin/env bash
# The capture benchmark of issue 4, side by side in one run: HeadScope's plain forward, forward with
# attention copied out, and full capture into a store (bench_capture), then the earlier pipelines' style
# in Python (python_capture_baseline.py: hooks, attention recomputed per layer, sort-based k_eff, CSV)
# on the same random GPT-2 checkpoint and prompts; prints the end-to-end ratio and bytes per sample.
#   bench/run_capture_bench.sh [BUILD_DIR]     env: SAMPLES (40), SEQ (256), THREADS (nproc), LAYERS, HIDDEN, HEADS
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
samples=${SAMPLES:-40}; seq=${SEQ:-256}; threads=${THREADS:-$(nproc)}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$build/bench/bench_runtime" --make-random "$work/model" --family gpt2 --layers "${LAYERS:-6}" --hidden "${HIDDEN:-384}" \
  --heads "${HEADS:-12}" --vocab 4096 --positions 1024 >/dev/null
"$build/bench/bench_capture" --model "$work/model" --work "$work" --samples "$samples" --seq "$seq" --threads "$threads" \
  --memory-samples "${MEMORY_SAMPLES:-2000}" | tee "$work/ours.txt"
/usr/bin/python3 "$root/bench/python_capture_baseline.py" --model "$work/model" --prompts "$work/prompts.jsonl" \
  --out "$work/baseline.csv" --threads "$threads" | tee "$work/python.txt"
ours=$(awk '/HEADSCOPE_CAPTURE_SECONDS/ {print $2}' "$work/ours.txt")
store=$(awk '/HEADSCOPE_STORE_BYTES/ {print $2}' "$work/ours.txt")
python=$(awk '{for (i = 1; i <= NF; i++) if ($i == "seconds") print $(i + 1)}' "$work/python.txt")
csv=$(awk '{for (i = 1; i <= NF; i++) if ($i == "csv_bytes") print $(i + 1)}' "$work/python.txt")
awk -v o="$ours" -v p="$python" -v s="$store" -v c="$csv" -v n="$samples" 'BEGIN {
  printf "\nend to end: HeadScope capture %.2f s (9 metrics + flow + summaries), Python hooks + CSV %.2f s (4 metrics): %.1fx faster (goal >= 10x)\n", o, p, p / o;
  printf "bytes per sample: store %.0f (9 metrics), CSV %.0f (4 metrics): CSV is %.1fx larger for fewer metrics\n", s / n, c / n, c / s }'
