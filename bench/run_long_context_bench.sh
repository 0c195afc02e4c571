#!/usr/bin/env bash
# Long-context capture benchmark (issue 16): one sample of each length through `headscope capture` on
# random-weight checkpoints with published configs (bench/real_models.h), side by side in one run:
# capture tokens/s and peak RSS at each length, and the fitted exponent of time per token against length.
# Attention's FLOPs per token grow linearly with the length (S² per sample), so an exponent <= 1 means the
# time per token grows no faster than the attention FLOPs do.
#   bench/run_long_context_bench.sh [BUILD_DIR]
#   env: MODELS="qwen2.5-0.5b llama-3.2-1b"  LENGTHS="2048 8192 16384 32768"  THREADS=$(nproc)
#        MODEL_DIR=/var/tmp/headscope-real-models  BUDGET_MIB=0 (capture --memory-budget; 0 = default)
#        LAYERS=N: run the first N layers only (a config beside the checkpoint with num_hidden_layers=N over the
#        same weights). Every layer has the same shape and is measured and released before the next, so time
#        scales with N and peak RSS changes only by the reduced arrays (9 × 4 bytes × tokens × heads per layer).
#        A full-depth 32k-token Qwen2.5-0.5B sample takes about 1.5 h on 2 CPU cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}
headscope="$build/headscope"
bench="$build/bench/bench_runtime"
for program in "$headscope" "$bench"; do
  [ -x "$program" ] || { echo "$program is not built (cmake --build $build)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time; scripts/install-deps.sh does)" >&2; exit 1; }
models=${MODELS:-qwen2.5-0.5b llama-3.2-1b}
lengths=${LENGTHS:-2048 8192 16384 32768}
threads=${THREADS:-$(nproc)}
model_dir=${MODEL_DIR:-/var/tmp/headscope-real-models}
budget=${BUDGET_MIB:-0}
layers=${LAYERS:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$model_dir"

rows=()
for name in $models; do
  folder="$model_dir/$name"
  if [ ! -f "$folder/config.json" ]; then
    echo "writing $folder ..." >&2
    "$bench" --make-real "$name" "$folder" >&2
  fi
  if [ -n "$layers" ]; then  # the first $layers layers of the same checkpoint
    shallow="$work/$name-$layers-layers"
    mkdir -p "$shallow"
    ln -sf "$folder"/*.safetensors* "$shallow/"
    /usr/bin/python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['num_hidden_layers']=int(sys.argv[3]); json.dump(c, open(sys.argv[2], 'w'))" \
      "$folder/config.json" "$shallow/config.json" "$layers"
    folder="$shallow"
  fi
  vocab=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$folder/config.json")
  for seq in $lengths; do
    "$bench" --make-shard "$work/tokens.npz" --rows 1 --columns "$seq" --vocab "$vocab"
    echo "== $name: $seq tokens ($(date -u +%H:%M:%S))" >&2
    /usr/bin/time -f '%M %e' -o "$work/capture.time" "$headscope" capture --model "$folder" --shards "$work/tokens.npz" \
      --out "$work/capture.h5" --overwrite --threads "$threads" --memory-budget "$budget" 2>"$work/capture.log" || {
      tail -c 2000 "$work/capture.log" >&2; exit 1; }
    rate=$(sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p' "$work/capture.log" | tail -n 1)
    read -r rss_kib wall <"$work/capture.time"
    store_mb=$(du -m "$work/capture.h5" | cut -f1)
    rows+=("$name $seq $rate $rss_kib $wall $store_mb")
    echo "   $rate tokens/s, peak RSS $((rss_kib / 1024)) MiB, ${wall} s" >&2
    rm -f "$work/capture.h5"
  done
done

echo "long-context capture benchmark: one sample per length, ${layers:-all} layers, $threads threads ($(uname -m), $(nproc) cores), memory budget ${budget} MiB (0 = default)"
printf '%s\n' "${rows[@]}" | awk '
  { name[NR] = $1; seq[NR] = $2; rate[NR] = $3; rss[NR] = $4 / 1048576; wall[NR] = $5; store[NR] = $6 }
  END {
    printf "%-14s %7s %10s %8s %12s %9s %9s %14s\n", "model", "tokens", "tokens/s", "rss_GB", "rss-2k_GB", "wall_s", "store_MB", "exponent";
    for (i = 1; i <= NR; ++i) {
      if (i == 1 || name[i] != name[i - 1]) first = i;
      exponent = "";
      if (i > first) exponent = sprintf("%.2f", log((1 / rate[i]) / (1 / rate[i - 1])) / log(seq[i] / seq[i - 1]));
      printf "%-14s %7d %10.1f %8.2f %12.2f %9.0f %9d %14s\n", name[i], seq[i], rate[i], rss[i], rss[i] - rss[first], wall[i], store[i], exponent;
    }
    print "exponent: d log(seconds per token) / d log(tokens) from the row above; attention FLOPs per token give 1, the rest 0";
    for (i = 1; i <= NR; ++i) {  # least-squares fit of log(seconds per token) on log(tokens), per model
      x = log(seq[i]); y = log(1 / rate[i]);
      count[name[i]]++; sx[name[i]] += x; sy[name[i]] += y; sxx[name[i]] += x * x; sxy[name[i]] += x * y;
    }
    for (m in count)
      if (count[m] > 1)
        printf "%s: fitted exponent over all lengths %.2f\n", m,
               (count[m] * sxy[m] - sx[m] * sy[m]) / (count[m] * sxx[m] - sx[m] * sx[m]);
  }'
