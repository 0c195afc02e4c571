#!/usr/bin/env bash
# Prefill tokens/s of HeadScope's runtime (bench_runtime) against an eager plain-torch implementation
# (python_prefill.py on Debian's /usr/bin/python3), same models, same thread count, one after the other
# per model, then a table with the ratio ours / python (> 1: ours is faster).
# Models: the six hf-reference fixtures (seq 128) and two random 4-layer, 256-wide checkpoints written
# by bench_runtime with our safetensors writer (seq 512), so that overhead does not dominate.
#   bench/run_runtime_bench.sh [BUILD_DIR]      (env: THREADS, REPEATS)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
bench="$build/bench/bench_runtime"
[ -x "$bench" ] || bench="$build/bench_runtime"
[ -x "$bench" ] || { echo "bench_runtime not built in $build (cmake --build $build --target bench_runtime)" >&2; exit 1; }
threads=${THREADS:-$(nproc)}
repeats=${REPEATS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bench" --make-random "$work/random-llama-4x256" --family llama --layers 4 --hidden 256 --heads 8 --kv-heads 4
"$bench" --make-random "$work/random-gpt2-4x256" --family gpt2 --layers 4 --hidden 256 --heads 8

specs=()
for model in gpt2 llama llama3-rope qwen2 mistral mistral-swa8; do
  specs+=("$root/tests/fixtures/hf-reference/$model:128")
done
specs+=("$work/random-llama-4x256:512" "$work/random-gpt2-4x256:512")

results="$work/results.txt"
for spec in "${specs[@]}"; do
  "$bench" --threads "$threads" --repeats "$repeats" "$spec" >>"$results"
  /usr/bin/python3 "$root/bench/python_prefill.py" --threads "$threads" --repeats "$repeats" "$spec" >>"$results"
done

echo "prefill tokens/s, $threads threads, median of $repeats runs ($(uname -m), $(nproc) cores)"
awk '
  $1 == "ours"   { ours[$2] = $4; seq[$2] = $3; order[n++] = $2 }
  $1 == "python" { python[$2] = $4 }
  END {
    printf "%-20s %5s %12s %12s %8s\n", "model", "seq", "headscope", "eager-torch", "ratio"
    for (i = 0; i < n; i++) { m = order[i]
      printf "%-20s %5d %12.0f %12.0f %7.2fx\n", m, seq[m], ours[m], python[m], ours[m] / python[m] }
  }' "$results"
