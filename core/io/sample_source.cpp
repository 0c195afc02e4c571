// SampleReader (see sample_source.h): prompt sets line by line, token shards a file at a time.
#include "core/io/sample_source.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "core/io/import.h"

namespace headscope::io {

namespace fs = std::filesystem;

std::string token_shard_member(const NpzFile& shard, const std::string& file, const std::string& requested) {
  if (!requested.empty()) return requested;
  for (const char* preferred : {"tokens", "input_ids", "ids"})
    if (shard.contains(preferred)) return preferred;
  const auto names = shard.names();
  if (names.empty()) throw ImportError(file + ": the .npz holds no array");
  return names.front();
}

std::string token_shard_sample_id(const std::string& file, std::uint64_t row) {
  return fs::path(file).stem().string() + ":" + std::to_string(row);
}

SampleReader::SampleReader(SampleSourcePaths paths) : paths_(std::move(paths)) {
  if (paths_.prompts_path.empty() == paths_.shards_path.empty())
    throw std::runtime_error("give exactly one sample source: a prompt set (--prompts) or token shards (--shards)");
  if (!paths_.prompts_path.empty()) {
    prompts_ = std::make_unique<PromptReader>(paths_.prompts_path);
  } else if (fs::is_directory(paths_.shards_path)) {
    for (const auto& entry : fs::directory_iterator(paths_.shards_path))
      if (entry.path().extension() == ".npz") shard_files_.push_back(entry.path().string());
    std::sort(shard_files_.begin(), shard_files_.end());
    if (shard_files_.empty()) throw std::runtime_error(paths_.shards_path + ": no .npz token shards in this folder");
  } else {
    shard_files_.push_back(paths_.shards_path);
  }
}

SampleReader::~SampleReader() = default;

std::optional<PromptRecord> SampleReader::next() {
  if (prompts_) return prompts_->next();
  while (row_ >= rows_) {
    if (file_index_ >= shard_files_.size()) return std::nullopt;
    load_shard(shard_files_[file_index_++]);
  }
  PromptRecord record;
  record.id = token_shard_sample_id(shard_file_, row_);
  record.line = static_cast<std::int64_t>(row_) + 1;
  record.ids.assign(tokens_.begin() + static_cast<std::ptrdiff_t>(row_ * columns_),
                    tokens_.begin() + static_cast<std::ptrdiff_t>((row_ + 1) * columns_));
  record.metadata_json = nlohmann::json{{"shard", shard_file_}, {"row", row_}}.dump();
  ++row_;
  return record;
}

std::int64_t SampleReader::count() const {
  if (prompts_) return count_prompts(paths_.prompts_path);
  std::int64_t total = 0;
  for (const auto& file : shard_files_) {
    NpzFile shard(file);
    std::uint64_t rows = 0, columns = 0;
    shard.int32_matrix(token_shard_member(shard, file, paths_.shard_member), rows, columns);
    total += static_cast<std::int64_t>(rows);
  }
  return total;
}

void SampleReader::load_shard(const std::string& file) {
  NpzFile shard(file);
  tokens_ = shard.int32_matrix(token_shard_member(shard, file, paths_.shard_member), rows_, columns_);
  row_ = 0;
  shard_file_ = file;
}

}  // namespace headscope::io
