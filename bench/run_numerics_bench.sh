#!/usr/bin/env bash
# What bfloat16 compute does to the stored metrics: the same prompts captured twice from one bfloat16
# checkpoint, once as stored (bfloat16 GEMMs, float32 norms/softmax/metrics: the default) and once with
# --dtype float32 (a float32 copy of the weights), both with float32 metric storage so that float16 storage
# rounding does not hide the difference; then per metric the max and mean absolute difference
# (bench/compare_stores.py).
#   bench/run_numerics_bench.sh [BUILD_DIR]   env: MODEL=llama-3.2-1b SEQ=590 PROMPTS=2 THREADS=$(nproc)
#        MODEL_DIR=/var/tmp/headscope-real-models (shared with run_real_model_bench.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
model=${MODEL:-llama-3.2-1b}
seq=${SEQ:-590}
prompts=${PROMPTS:-2}
threads=${THREADS:-$(nproc)}
folder=${MODEL_DIR:-/var/tmp/headscope-real-models}/$model
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$folder/config.json" ] || "$build/bench/bench_runtime" --make-real "$model" "$folder" >&2
vocab=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$folder/config.json")
"$build/bench/bench_runtime" --make-shard "$work/tokens.npz" --rows "$prompts" --columns "$seq" --vocab "$vocab"
for dtype in auto float32; do
  "$build/headscope" capture --model "$folder" --shards "$work/tokens.npz" --out "$work/$dtype.h5" --dtype "$dtype" \
    --float32 --threads "$threads" 2>"$work/$dtype.log" || { cat "$work/$dtype.log" >&2; exit 1; }
  echo "$dtype: $(tail -n 1 "$work/$dtype.log")"
done
echo "$model, $prompts prompts x $seq tokens: bfloat16 run (default) against the float32 run"
/usr/bin/python3 "$root/bench/compare_stores.py" "$work/auto.h5" "$work/float32.h5"
