// `headscope train --arch gpt2|llama --task chain|pause --seed S --steps N --out DIR`: trains a sample
// model on generated arithmetic word problems with our own runtime (capture/train/trainer.h), printing
// progress on stderr (app/cli/progress_line.h); the folder gets config.json, model.safetensors, the
// tokenizer files, loss.csv (every step) and training.json.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/progress_line.h"
#include "app/cli/registry.h"
#include "capture/train/trainer.h"
#include "core/commands/command_options.h"

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a small GPT-2- or Llama-style model on arithmetic word problems");
  auto s = std::make_shared<headscope::train::TrainSettings>();
  cmd->add_option("--out", s->out_dir, "Model folder to write (HF layout)")->required();
  cmd->add_option("--arch", s->architecture, "gpt2 or llama");
  cmd->add_option("--init-from", s->init_from, "Start from this checkpoint (same architecture) instead of random weights");
  cmd->add_option(headscope::commands::kAdapterOption.flag, s->init_adapter,
                  "PEFT LoRA adapter merged into --init-from's weights as they load (then trained as full weights)");
  cmd->add_option("--layers", s->layer_count, "Transformer blocks");
  cmd->add_option("--hidden", s->hidden_size, "Hidden size");
  cmd->add_option("--heads", s->head_count, "Query heads");
  cmd->add_option("--kv-heads", s->kv_head_count, "Key/value heads (llama; 0 = heads)");
  cmd->add_option("--inner", s->intermediate_size, "MLP width (0 = the architecture's default)");
  cmd->add_option("--positions", s->max_positions, "Longest sequence (GPT-2 position table size)");
  cmd->add_option("--task", s->task, "chain (written steps), pause (question, pauses, answer), direct (question, answer) or latent (CODI-style self-distillation)");
  cmd->add_option("--pause-count", s->pause_count, "Pause tokens for --task pause");
  cmd->add_option("--latent-steps", s->latent_steps, "Continuous thoughts for --task latent");
  cmd->add_option("--latent-projection", s->latent_projection, "--task latent: CODI's projection between thoughts (true/false)");
  cmd->add_option("--distill-factor", s->distill_loss_factor, "--task latent: weight of the hidden-state distillation");
  cmd->add_option("--teacher-factor", s->teacher_loss_factor, "--task latent: weight of the teacher's chain-of-thought loss");
  cmd->add_option("--min-level", s->min_level, "Lowest level trained on");
  cmd->add_option("--max-level", s->max_level, "Highest level trained on");
  cmd->add_option("--seed", s->seed, "Seed of the initial weights and the training problems");
  cmd->add_option("--steps", s->steps, "Optimiser steps");
  cmd->add_option("--batch-tokens", s->batch_tokens, "Tokens per batch (problems of one level per batch)");
  cmd->add_option("--lr", s->learning_rate, "Peak learning rate");
  cmd->add_option("--min-lr-ratio", s->min_learning_rate_ratio, "Cosine floor as a fraction of the peak");
  cmd->add_option("--warmup", s->warmup_steps, "Linear warmup steps");
  cmd->add_option("--weight-decay", s->weight_decay, "AdamW weight decay (matrices and embeddings)");
  cmd->add_option("--clip", s->grad_clip, "Gradient norm clip (0: none)");
  cmd->add_option("--device", s->device, "cpu, cuda or cuda:N");
  cmd->add_option("--threads", s->threads, "CPU threads (fixed, for reproducibility)");
  cmd->add_option("--save-dtype", s->save_dtype, "float32 or float16");
  cmd->add_option("--log-every", s->log_every, "Steps between progress updates (the loss shown is their mean)");
  auto progress_every = std::make_shared<double>(10);
  headscope::cli::add_progress_every(cmd, *progress_every);
  cmd->add_option("--checkpoint-every", s->checkpoint_every, "Steps between intermediate checkpoints (0: end only)");
  cmd->callback([s, progress_every] {
    s->command_line = headscope::cli::command_line();
    headscope::cli::ProgressLine line(*progress_every);
    const auto result = headscope::train::train_model(*s, [&line](const headscope::train::TrainProgress& p) {
      char detail[64];
      std::snprintf(detail, sizeof detail, "loss %.4f  lr %.2e", p.loss, p.learning_rate);
      line.update({static_cast<double>(p.step), static_cast<double>(p.steps), "steps",
                   p.seconds > 0 ? static_cast<double>(p.tokens) / p.seconds : 0, "tokens/s", p.seconds, {}, detail});
    });
    line.finish();
    std::fprintf(stderr, "trained %lld parameters for %d steps in %.0f s, final loss %.4f -> %s\n",
                 static_cast<long long>(result.parameter_count), result.steps, result.seconds, result.final_loss,
                 s->out_dir.c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
