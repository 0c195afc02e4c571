// CODI-style self-distillation for the latent sample models (private to capture/train): one model is both
// the teacher, reading the written chain of thought, and the student, which after the question and <bot>
// runs `latent_steps` continuous thoughts (each input = the projection of the previous final hidden state,
// through the KV cache, with autograd), then <eot> and "#### N". The loss is
//   student CE on "#### N" + EOS  +  teacher CE on the chain  +  distillation,
// the distillation being the smooth-L1 distance between the student's and the (detached) teacher's hidden
// states at the token that predicts the answer's first digit (the space of "#### "), every layer, each
// divided by the teacher's std (CODI's distill_loss_div_std), averaged over layers.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "capture/model/model_torch.h"
#include "capture/tokenizer/tokenizer.h"
#include "capture/train/trainer.h"
#include "core/problems/arith_problems.h"

namespace headscope::train {

struct LatentBatch {
  at::Tensor teacher_inputs;    // [batch, teacher_token] int64, right-padded
  at::Tensor teacher_targets;   // [batch, teacher_token] int64, -100 where no loss
  at::Tensor teacher_position;  // [batch] int64: the teacher's "#### " space
  at::Tensor student_prefix;    // [batch, prefix] int64: <bos> question \n <bot>, one length for the batch
  at::Tensor student_suffix;    // [batch, suffix] int64: <eot> "#### N" (right-padded)
  at::Tensor student_targets;   // [batch, suffix] int64: the next ids ("#### N" <eos>), -100 on padding
  std::int64_t student_position = 5;  // the suffix's "#### " space (after <eot> and four '#')
  std::int64_t tokens = 0;            // teacher + student input tokens
};

// Batches of one level whose student prefixes all have one length (so the latent steps line up through
// the batch's KV cache): problems are drawn into per-(level, length) pools until one holds `batch_size`.
class LatentBatchSource {
 public:
  LatentBatchSource(const TrainSettings& settings, const tokenizer::Tokenizer& tokenizer);
  LatentBatch next(int step);
  std::int64_t skipped() const { return skipped_; }

 private:
  struct Encoded {
    std::vector<std::int64_t> teacher;  // <bos> question \n chain "#### N" <eos>
    std::int64_t teacher_answer_start = 0, teacher_position = 0;
    std::vector<std::int64_t> prefix;  // <bos> question \n <bot>
    std::vector<std::int64_t> suffix;  // <eot> "#### N" <eos>
  };
  Encoded encode(const problems::Problem& problem) const;

  const TrainSettings& settings_;
  const tokenizer::Tokenizer& tokenizer_;
  problems::ProblemGenerator generator_;
  std::map<std::pair<int, std::size_t>, std::vector<Encoded>> pools_;
  std::size_t pooled_ = 0;
  std::int64_t skipped_ = 0;
};

struct LatentLoss {
  at::Tensor total;  // scalar with the graph
  double student = 0, teacher = 0, distill = 0;
};

// The three losses of one batch (forward with autograd; the caller runs backward on `total`).
LatentLoss latent_batch_loss(model::Model& model, const LatentBatch& batch, const TrainSettings& settings);

}  // namespace headscope::train
