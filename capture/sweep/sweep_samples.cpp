// Loading a sweep's samples (see sweep_samples.h) from the one sample source the capture reads too
// (core/io/sample_source.h: same rows, same member, same ids), text encoded by the model's tokenizer.
#include "capture/sweep/sweep_samples.h"

#include <stdexcept>

#include "capture/tokenizer/tokenizer.h"
#include "core/io/sample_source.h"

namespace headscope::sweep {

static void check_sample(const SweepSample& sample, const std::string& where, int vocab_size) {
  if (sample.ids.size() < 2)
    throw std::runtime_error(where + ": a sample needs at least 2 tokens (the loss predicts the next one)");
  for (auto id : sample.ids)
    if (id < 0 || id >= vocab_size)
      throw std::runtime_error(where + ": token id " + std::to_string(id) + " is outside the vocabulary of " +
                               std::to_string(vocab_size));
}

std::vector<SweepSample> load_sweep_samples(const SampleSource& source, const std::string& model_dir, int vocab_size) {
  io::SampleReader reader({source.prompts_path, source.shards_path, source.shard_member});
  const auto tokenizer = source.prompts_path.empty() ? nullptr : tokenizer::load_model_tokenizer(model_dir);
  std::vector<SweepSample> samples;
  while (source.max_samples < 0 || static_cast<std::int64_t>(samples.size()) < source.max_samples) {
    auto prompt = reader.next();
    if (!prompt) break;
    const std::string where = source.prompts_path.empty()
                                  ? source.shards_path + ": " + prompt->id
                                  : source.prompts_path + ":" + std::to_string(prompt->line) + " ('" + prompt->id + "')";
    SweepSample sample;
    sample.id = prompt->id;
    if (!prompt->ids.empty()) {
      sample.ids.assign(prompt->ids.begin(), prompt->ids.end());
    } else {
      if (!tokenizer)
        throw std::runtime_error(where + ": has text but " + model_dir + " has no tokenizer (give 'ids' instead)");
      if (source.add_bos && tokenizer->bos_id()) sample.ids.push_back(*tokenizer->bos_id());
      for (auto id : tokenizer->encode(prompt->text)) sample.ids.push_back(id);
    }
    check_sample(sample, where, vocab_size);
    samples.push_back(std::move(sample));
  }
  if (samples.empty()) throw std::runtime_error(reader.paths().path() + ": no samples");
  return samples;
}

}  // namespace headscope::sweep
