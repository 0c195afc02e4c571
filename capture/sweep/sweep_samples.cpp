// Loading a sweep's samples (see sweep_samples.h): prompt sets through core/io/prompt_set.h and the
// model's tokenizer, token shards through core/io/npz.h.
#include "capture/sweep/sweep_samples.h"

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "capture/tokenizer/tokenizer.h"
#include "core/io/npz.h"
#include "core/io/prompt_set.h"

namespace headscope::sweep {

namespace fs = std::filesystem;

static void check_sample(const SweepSample& sample, const std::string& where, int vocab_size) {
  if (sample.ids.size() < 2)
    throw std::runtime_error(where + ": a sample needs at least 2 tokens (the loss predicts the next one)");
  for (auto id : sample.ids)
    if (id < 0 || id >= vocab_size)
      throw std::runtime_error(where + ": token id " + std::to_string(id) + " is outside the vocabulary of " +
                               std::to_string(vocab_size));
}

static std::vector<SweepSample> from_prompts(const SampleSource& source, const std::string& model_dir, int vocab_size) {
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (fs::exists(fs::path(model_dir) / name)) {
      tokenizer = tokenizer::load_tokenizer((fs::path(model_dir) / name).string());
      break;
    }
  std::vector<SweepSample> samples;
  io::PromptReader reader(source.prompts_path);
  while (auto prompt = reader.next()) {
    if (source.max_samples >= 0 && static_cast<std::int64_t>(samples.size()) >= source.max_samples) break;
    const std::string where = source.prompts_path + ":" + std::to_string(prompt->line) + " ('" + prompt->id + "')";
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
  return samples;
}

static std::vector<SweepSample> from_shard(const SampleSource& source, int vocab_size) {
  io::NpzFile archive(source.shards_path);
  const auto names = archive.names();
  if (names.empty()) throw std::runtime_error(source.shards_path + ": the archive has no members");
  const std::string member = source.shard_member.empty() ? names.front() : source.shard_member;
  std::uint64_t rows = 0, columns = 0;
  const auto tokens = archive.int32_matrix(member, rows, columns);  // [sample, token]
  std::vector<SweepSample> samples;
  for (std::uint64_t row = 0; row < rows; ++row) {
    if (source.max_samples >= 0 && static_cast<std::int64_t>(samples.size()) >= source.max_samples) break;
    SweepSample sample;
    sample.id = member + "[" + std::to_string(row) + "]";
    sample.ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(row * columns),
                      tokens.begin() + static_cast<std::ptrdiff_t>((row + 1) * columns));
    check_sample(sample, source.shards_path + ": " + sample.id, vocab_size);
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::vector<SweepSample> load_sweep_samples(const SampleSource& source, const std::string& model_dir, int vocab_size) {
  if (source.prompts_path.empty() == source.shards_path.empty())
    throw std::runtime_error("give exactly one sample source: a prompt set (--prompts) or a token shard (--shards)");
  auto samples = source.prompts_path.empty() ? from_shard(source, vocab_size) : from_prompts(source, model_dir, vocab_size);
  if (samples.empty())
    throw std::runtime_error((source.prompts_path.empty() ? source.shards_path : source.prompts_path) + ": no samples");
  return samples;
}

}  // namespace headscope::sweep
