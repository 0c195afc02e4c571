#!/usr/bin/env bash
# Rebuilds samples/: the held-out prompt sets, the three sample models (trained in parallel, one thread
# each), their held-out accuracy tables, the test's expected answers, and the sample store.
# Usage: scripts/train_sample_models.sh [path/to/headscope]   (default: build/headscope)
# Training is deterministic at a fixed thread count: the same command and seed give the same weights.
set -euo pipefail
HS=${1:-build/headscope}
ARCH="--layers 4 --hidden 64 --heads 4 --positions 320 --batch-tokens 2048 --threads 1 --log-every 10"
# Four stages, as the shipped weights were made (the machine was shared, so training went on in pieces):
# each continues from the last with a fresh warmup + cosine schedule and fresh problems (another seed).
# The pause model stops after stage 3.
STAGE1="$ARCH --seed 1 --steps 400 --lr 3e-3 --warmup 30"
STAGE2="$ARCH --seed 2 --steps 700 --lr 2e-3 --warmup 20"
STAGE3="$ARCH --seed 3 --lr 2e-3 --warmup 100 --checkpoint-every 500"
STAGE4="$ARCH --seed 4 --steps 7000 --lr 1e-3 --warmup 50 --checkpoint-every 500"
WORK=${STAGE_DIR:-/tmp/headscope-stages}
mkdir -p samples/prompts samples/models tests/fixtures/sample_models

for format in chain prompt_only pause pause_prompt; do
  suffix=$([ "$format" = chain ] && echo "" || echo "_$format")
  "$HS" problems --seed 1 --count 250 --split heldout --format "$format" --out "samples/prompts/arith_heldout$suffix.jsonl"
done
"$HS" problems --seed 20 --count 20 --split heldout --format prompt_only --out tests/fixtures/sample_models/fixed20.jsonl
"$HS" problems --seed 20 --count 20 --split heldout --format pause_prompt --out tests/fixtures/sample_models/fixed20_pause.jsonl

train_model() {  # name, stage-3 steps, whether to run stage 4, then the model's own flags
  local name=$1 stage3_steps=$2 stage4=$3; shift 3
  "$HS" train "$@" $STAGE1 --out "$WORK/1/$name" 2> "$WORK/$name.stage1.log"
  "$HS" train "$@" $STAGE2 --init-from "$WORK/1/$name" --out "$WORK/2/$name" 2> "$WORK/$name.stage2.log"
  "$HS" train "$@" $STAGE3 --steps "$stage3_steps" --init-from "$WORK/2/$name" --out "$WORK/3/$name" 2> "$WORK/$name.stage3.log"
  local last="$WORK/3/$name" log="$WORK/$name.stage3.log"
  if [ "$stage4" = yes ]; then
    "$HS" train "$@" $STAGE4 --init-from "$WORK/3/$name" --out "$WORK/4/$name" 2> "$WORK/$name.stage4.log"
    last="$WORK/4/$name" log="$WORK/$name.stage4.log"
  fi
  rm -rf "samples/models/$name" && cp -r "$last" "samples/models/$name"
  cat "$WORK/$name".stage*.log > "samples/models/$name/train.log"
}
mkdir -p "$WORK"
train_model arith-gpt2 10000 yes --arch gpt2 --task chain &
train_model arith-llama 10000 yes --arch llama --kv-heads 2 --task chain &
train_model arith-pause6 4000 no --arch gpt2 --task pause --pause-count 6 &
wait

for model in arith-gpt2 arith-llama; do
  "$HS" eval --model samples/models/$model --problems samples/prompts/arith_heldout_prompt_only.jsonl
  "$HS" eval --model samples/models/$model --problems tests/fixtures/sample_models/fixed20.jsonl \
    --answers tests/fixtures/sample_models/$model.expected.jsonl
done
"$HS" eval --model samples/models/arith-pause6 --problems samples/prompts/arith_heldout_pause_prompt.jsonl
"$HS" eval --model samples/models/arith-pause6 --problems tests/fixtures/sample_models/fixed20_pause.jsonl \
  --answers tests/fixtures/sample_models/arith-pause6.expected.jsonl

# The sample store: teacher-forced chains (step spans -> step embeddings), flow on the last 6 positions.
"$HS" capture --model samples/models/arith-llama --prompts samples/prompts/arith_heldout.jsonl --max-samples 12 \
  --flow last --flow-size 6 --pin 1:0,3:2 --out samples/sample.h5 --overwrite --threads 2
# The pause model's 6 x 6 flow among its pause positions (token id 3).
"$HS" capture --model samples/models/arith-pause6 --prompts samples/prompts/arith_heldout_pause_prompt.jsonl --max-samples 20 \
  --flow marker:3 --flow-size 6 --out samples/sample_pause6.h5 --overwrite --threads 2

# Heartbeat calibration (samples/MODELS.md): generate on the held-out prompts and count IAF heartbeats.
"$HS" capture --model samples/models/arith-gpt2 --prompts samples/prompts/arith_heldout_prompt_only.jsonl --generate 64 --max-samples 100 \
  --flow-size 0 --out /tmp/arith-gpt2-generate.h5 --overwrite --threads 2
"$HS" heartbeats /tmp/arith-gpt2-generate.h5

# Latent (continuous-thought) models and their no-CoT baselines (samples/MODELS.md, "Latent models"):
# from each chain model, two stages of 1,500 steps on levels 1-3 (seeds 5 and 6, each a fresh warmup +
# cosine) of CODI-style self-distillation with 6 thoughts, and, with the same start, stages, levels and
# seeds, of answering at once ("#### N" right after the question).
STAGE56="--layers 4 --hidden 64 --heads 4 --positions 320 --batch-tokens 2048 --threads 1 --log-every 50 \
  --min-level 1 --max-level 3 --steps 1500 --lr 1e-3 --warmup 50 --checkpoint-every 250"
latent_stages() {  # name, then the model's own flags
  local name=$1; shift
  "$HS" train "$@" $STAGE56 --seed 5 --out "$WORK/5/$name" 2> "$WORK/$name.stage5.log"
  "$HS" train "$@" $STAGE56 --seed 6 --init-from "$WORK/5/$name" --out "$WORK/6/$name" 2> "$WORK/$name.stage6.log"
}
for arch in gpt2 llama; do
  flags="--arch $arch"; [ "$arch" = llama ] && flags="$flags --kv-heads 2"
  latent_stages arith-latent-$arch $flags --task latent --init-from samples/models/arith-$arch &
  latent_stages arith-direct-$arch $flags --task direct --init-from samples/models/arith-$arch &
done
wait
"$HS" problems --seed 13 --count 600 --levels 1-3 --split heldout --format prompt_only \
  --out samples/prompts/arith_heldout_l13_prompt_only.jsonl
for model in arith-latent-gpt2 arith-latent-llama arith-direct-gpt2 arith-direct-llama; do
  rm -rf "samples/models/$model" && cp -r "$WORK/6/$model" "samples/models/$model"
  cp "$WORK/5/$model/loss.csv" "samples/models/$model/loss-stage1.csv"
  if [ -f "$WORK/5/$model/loss-parts.csv" ]; then cp "$WORK/5/$model/loss-parts.csv" "samples/models/$model/loss-parts-stage1.csv"; fi
  cat "$WORK/$model".stage5.log "$WORK/$model".stage6.log > "samples/models/$model/train.log"
  "$HS" eval --model samples/models/$model --problems samples/prompts/arith_heldout_l13_prompt_only.jsonl
  "$HS" eval --model samples/models/$model --problems samples/prompts/arith_heldout_prompt_only.jsonl
  "$HS" eval --model samples/models/$model --problems tests/fixtures/sample_models/fixed20.jsonl \
    --answers tests/fixtures/sample_models/$model.expected.jsonl
done
# The latent models' 6 x 6 flow among their thoughts (the CODI seed's analysis, docs/results.md).
for arch in gpt2 llama; do
  "$HS" capture --model samples/models/arith-latent-$arch --prompts samples/prompts/arith_heldout_l13_prompt_only.jsonl \
    --flow latent --out /tmp/latent-$arch.h5 --overwrite --threads 2
done
"$HS" capture --model samples/models/arith-latent-llama --prompts samples/prompts/arith_heldout_l13_prompt_only.jsonl \
  --max-samples 20 --flow latent --out samples/sample_latent.h5 --overwrite --threads 2
