#!/usr/bin/env bash
# Scale-out benchmark (issue 17), side by side in one run on this machine:
#   1. the same prompts captured by 1 process x N threads and by `mpirun -n N` ranks x 1 thread each
#      (wall time including model load, tokens/s, and the ratio);
#   2. what the master's virtual datasets cost readers: the same 200 traces read through the single
#      process's store and through the MPI run's master (open, cold and warm read; bench_store --compare-traces).
#   bench/run_scale_out_bench.sh [BUILD_DIR]
#   env: MODEL=qwen2.5-0.5b (a bench/real_models.h name, written under MODEL_DIR when missing, or a model folder)
#        MODEL_DIR=/var/tmp/headscope-real-models  PROMPTS=samples/prompts/arith_heldout.jsonl  SAMPLES=24  RANKS=2
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
prompts=${PROMPTS:-$root/samples/prompts/arith_heldout.jsonl}
samples=${SAMPLES:-24}
ranks=${RANKS:-2}
if [ -d "$model" ]; then folder=$model; else
  folder="$model_dir/$model"
  if [ ! -f "$folder/config.json" ]; then echo "writing $folder ..." >&2; "$build/bench/bench_runtime" --make-real "$model" "$folder" >&2; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(capture --model "$folder" --prompts "$prompts" --max-samples "$samples")
mpi=(mpirun --allow-run-as-root --oversubscribe -n "$ranks")

seconds() { local start=$(date +%s.%N); "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }; awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
seconds "$headscope" "${common[@]}" --threads 1 --max-samples 1 --out "$work/warm.h5" >/dev/null  # the weights into the page cache
echo "model $folder, $samples prompts of $prompts, $ranks ranks"
one=$(seconds "$headscope" "${common[@]}" --threads "$ranks" --out "$work/one.h5")
one_tokens=$("$headscope" inspect "$work/one.h5" | sed -n 's/.*samples *[0-9]* (\([0-9]*\) tokens).*/\1/p')
many=$(seconds "${mpi[@]}" "$headscope" "${common[@]}" --threads 1 --out "$work/run.h5")
many_tokens=$("$headscope" inspect "$work/run.h5" | sed -n 's/.*samples *[0-9]* (\([0-9]*\) tokens).*/\1/p')
printf '1 process x %d threads: %6.1f s  %7.1f tokens/s\n' "$ranks" "$one" "$(ratio "$one_tokens" "$one")"
printf '%d ranks x 1 thread:     %6.1f s  %7.1f tokens/s\n' "$ranks" "$many" "$(ratio "$many_tokens" "$many")"
printf 'ranks / threads speed: %sx (wall time of the threads over the ranks, model load included)\n' "$(ratio "$one" "$many")"
echo "trace reads, single file vs the master over $ranks shards:"
"$build/bench/bench_store" --compare-traces "$work/one.h5" "$work/run.h5"
