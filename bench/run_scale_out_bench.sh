#!/usr/bin/env bash
# Scale-out benchmark (issue 17), side by side in one run on this machine:
#   1. the same prompts captured by 1 process x N threads and by `mpirun -n N` ranks x 1 thread each
#      (wall time including model load, tokens/s, and the ratio);
#   2. what the master's virtual datasets cost readers: the same 200 traces read through the single
#      process's store and through the MPI run's master (open, cold and warm read; bench_store --compare-traces).
#   bench/run_scale_out_bench.sh [BUILD_DIR]
#   env: MODEL=qwen2.5-0.5b (a bench/real_models.h name, written under MODEL_DIR when missing, or a model folder)
#        MODEL_DIR=/var/tmp/headscope-real-models  SAMPLES=32  RANKS=2
#        PROMPTS=a JSONL prompt set (default: SAMPLES prompts of token ids, 64 to 512 tokens, lengths varied as a
#        real prompt set's are; the random-weight checkpoints have no tokenizer)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
headscope="$build/headscope"
for program in "$headscope" "$build/bench/bench_runtime" "$build/bench/bench_store"; do
  [ -x "$program" ] || { echo "$program is not built (cmake --build $build)" >&2; exit 1; }
done
command -v mpirun >/dev/null || { echo "mpirun is missing (apt-get install openmpi-bin; scripts/install-deps.sh does)" >&2; exit 1; }
model=${MODEL:-qwen2.5-0.5b}
model_dir=${MODEL_DIR:-/var/tmp/headscope-real-models}
samples=${SAMPLES:-32}
ranks=${RANKS:-2}
if [ -d "$model" ]; then folder=$model; else
  folder="$model_dir/$model"
  if [ ! -f "$folder/config.json" ]; then echo "writing $folder ..." >&2; "$build/bench/bench_runtime" --make-real "$model" "$folder" >&2; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prompts=${PROMPTS:-$work/prompts.jsonl}
[ -n "${PROMPTS:-}" ] || awk -v n="$samples" 'BEGIN { srand(7); for (i = 0; i < n; ++i) {
    len = 64 + int(rand() * 449); line = "{\"id\": \"p" i "\", \"ids\": [";
    for (t = 0; t < len; ++t) line = line (t ? ", " : "") int(1 + rand() * 30000);
    print line "]}" } }' >"$prompts"
common=(capture --model "$folder" --prompts "$prompts")
mpi=(mpirun --allow-run-as-root --oversubscribe -n "$ranks")

seconds() { local start=$(date +%s.%N); "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }; awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
seconds "$headscope" "${common[@]}" --threads 1 --max-samples 1 --out "$work/warm.h5" >/dev/null  # the weights into the page cache
echo "model $folder, $samples prompts of $prompts, $ranks ranks"
one=$(seconds "$headscope" "${common[@]}" --max-samples "$samples" --threads "$ranks" --out "$work/one.h5")
one_tokens=$("$headscope" inspect "$work/one.h5" | sed -n 's/.*samples *[0-9]* (\([0-9]*\) tokens).*/\1/p')
many=$(seconds "${mpi[@]}" "$headscope" "${common[@]}" --max-samples "$samples" --threads 1 --out "$work/run.h5")
many_tokens=$("$headscope" inspect "$work/run.h5" | sed -n 's/.*samples *[0-9]* (\([0-9]*\) tokens).*/\1/p')
printf '1 process x %d threads: %6.1f s  %7.1f tokens/s\n' "$ranks" "$one" "$(ratio "$one_tokens" "$one")"
printf '%d ranks x 1 thread:     %6.1f s  %7.1f tokens/s\n' "$ranks" "$many" "$(ratio "$many_tokens" "$many")"
printf 'ranks / threads speed: %sx (wall time of the threads over the ranks, model load included)\n' "$(ratio "$one" "$many")"
echo "trace reads, single file vs the master over $ranks shards:"
"$build/bench/bench_store" --compare-traces "$work/one.h5" "$work/run.h5"
