// The one source of samples for every analysis that runs a model (the capture, the sweep, the gain scan):
// a JSONL prompt set (core/io/prompt_set.h) or token shards, read the same way for all of them.
// Token shards, the one rule: an .npz file, or a folder of them read in file-name order; in each, the
// member `tokens`, else `input_ids`, else `ids`, else the first member (or the member the caller names),
// an integer matrix [sample, token]; row r of shard file F is the sample with id "<stem of F>:<r>",
// line r + 1, metadata {"shard": F, "row": r}. Text prompts carry text; shard rows carry ids.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/io/npz.h"
#include "core/io/prompt_set.h"

namespace headscope::io {

struct SampleSourcePaths {
  std::string prompts_path;  // a JSONL prompt set, or
  std::string shards_path;   // an .npz token shard or a folder of them
  std::string shard_member;  // "" = the rule above
  const std::string& path() const { return prompts_path.empty() ? shards_path : prompts_path; }
};

// The member of a token shard that holds its tokens (the rule above). Throws ImportError when none.
std::string token_shard_member(const NpzFile& shard, const std::string& file, const std::string& requested = "");
// The sample id of row `row` of shard file `file`: "<stem>:<row>".
std::string token_shard_sample_id(const std::string& file, std::uint64_t row);

class SampleReader {
 public:
  // Throws std::runtime_error when not exactly one of prompts/shards is given, or a folder holds no shard.
  explicit SampleReader(SampleSourcePaths paths);
  ~SampleReader();
  // The next sample; nullopt at the end. Throws (naming the file) on a bad line or member.
  std::optional<PromptRecord> next();
  // Samples in the source (a first pass: shards are opened to read their shapes).
  std::int64_t count() const;
  const SampleSourcePaths& paths() const { return paths_; }

 private:
  void load_shard(const std::string& file);
  SampleSourcePaths paths_;
  std::unique_ptr<PromptReader> prompts_;
  std::vector<std::string> shard_files_;
  std::size_t file_index_ = 0;
  std::string shard_file_;
  std::vector<std::int32_t> tokens_;  // [rows, columns] of the current shard
  std::uint64_t rows_ = 0, columns_ = 0, row_ = 0;
};

}  // namespace headscope::io
