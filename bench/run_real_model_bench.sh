#!/usr/bin/env bash
# Real-shape benchmark: random-weight checkpoints with the published configs of Llama-3.2-1B, Qwen2.5-0.5B
# and Llama-3-8B (bfloat16, as published; bench/real_models.h), and per model, one after the other in one
# run on the same machine:
#   capture   `headscope capture` over PROMPTS token rows of SEQ tokens, default settings: every metric of
#             every head at every token, into a store (tokens/s excludes loading the model)
#   forward   our plain forward pass with logits, no probes (bench_runtime, median of REPEATS)
#   eager     bench/python_prefill.py: the same forward in eager torch on Debian's python3-torch, as a notebook
#             runs it (float32, glibc malloc), median of REPEATS; skipped where it cannot fit in memory
# with each one's peak RSS and the checkpoint's bytes, and capture / eager as the ratio.
#   bench/run_real_model_bench.sh [BUILD_DIR]
#   env: MODELS="llama-3.2-1b qwen2.5-0.5b llama-3-8b"  SEQ=590  PROMPTS=4  REPEATS=3  THREADS=$(nproc)
#        MODEL_DIR=/var/tmp/headscope-real-models (checkpoints are kept there between runs)  DEVICE=cpu
#        EAGER_MAX_GB=12 (skip the eager baseline for checkpoints whose float32 copy is larger)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
headscope="$build/headscope"
bench="$build/bench/bench_runtime"
for program in "$headscope" "$bench"; do
  [ -x "$program" ] || { echo "$program is not built (cmake --build $build)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time; scripts/install-deps.sh does)" >&2; exit 1; }
models=${MODELS:-llama-3.2-1b qwen2.5-0.5b llama-3-8b}
seq=${SEQ:-590}
prompts=${PROMPTS:-4}
repeats=${REPEATS:-3}
threads=${THREADS:-$(nproc)}
device=${DEVICE:-cpu}
model_dir=${MODEL_DIR:-/var/tmp/headscope-real-models}
eager_max_gb=${EAGER_MAX_GB:-12}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$model_dir"

rss_gb() { awk '{printf "%.2f", $1 / 1048576}' "$1"; }  # /usr/bin/time's %M is KiB
rows=()
for name in $models; do
  folder="$model_dir/$name"
  if [ ! -f "$folder/config.json" ]; then
    echo "writing $folder ..." >&2
    "$bench" --make-real "$name" "$folder" >&2
  fi
  bytes=$(du -cb "$folder"/*.safetensors | tail -n 1 | cut -f1)
  vocab=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$folder/config.json")
  "$bench" --make-shard "$work/tokens.npz" --rows "$prompts" --columns "$seq" --vocab "$vocab"

  echo "== $name: capture" >&2
  /usr/bin/time -f '%M' -o "$work/capture.rss" "$headscope" capture --model "$folder" --shards "$work/tokens.npz" \
    --out "$work/capture.h5" --overwrite --threads "$threads" --device "$device" 2>"$work/capture.log" || {
    cat "$work/capture.log" >&2; exit 1; }
  capture_rate=$(sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p' "$work/capture.log" | tail -n 1)
  rm -f "$work/capture.h5"

  echo "== $name: forward" >&2
  /usr/bin/time -f '%M' -o "$work/forward.rss" "$bench" --threads "$threads" --repeats "$repeats" "$folder:$seq" >"$work/forward.txt"
  forward_rate=$(awk '{print $4}' "$work/forward.txt")

  eager_rate=n/a eager_rss=n/a ratio=n/a
  if awk -v b="$bytes" -v m="$eager_max_gb" 'BEGIN { exit !(b * 2 / 1e9 <= m) }'; then
    echo "== $name: eager torch" >&2
    /usr/bin/time -f '%M' -o "$work/eager.rss" /usr/bin/python3 "$root/bench/python_prefill.py" --threads "$threads" \
      --repeats "$repeats" "$folder:$seq" >"$work/eager.txt"
    eager_rate=$(awk '{print $4}' "$work/eager.txt")
    eager_rss=$(rss_gb "$work/eager.rss")
    ratio=$(awk -v a="$capture_rate" -v b="$eager_rate" 'BEGIN { printf "%.2fx", a / b }')
  fi
  rows+=("$(printf '%-14s %5d %9.2f %10.1f %8.2f %10.1f %8.2f %10s %8s %9s' "$name" "$seq" "$(awk -v b="$bytes" 'BEGIN{print b/1e9}')" \
    "$capture_rate" "$(rss_gb "$work/capture.rss")" "$forward_rate" "$(rss_gb "$work/forward.rss")" "$eager_rate" "$eager_rss" "$ratio")")
done

echo "real-shape capture benchmark: $prompts prompts x $seq tokens, $threads threads, device $device ($(uname -m), $(nproc) cores)"
printf '%-14s %5s %9s %10s %8s %10s %8s %10s %8s %9s\n' model seq ckpt_GB capture_t/s rss_GB forward_t/s rss_GB eager_t/s rss_GB capt/eager
printf '%s\n' "${rows[@]}"
