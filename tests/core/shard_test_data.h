// Shards of a synthetic run for the master tests: samples [begin, end) of store_test_data.h's run written as
// shard `index` of `count` (count 0: an ordinary store), with the place recorded as a capture records it.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/store/master.h"
#include "core/store/writer.h"
#include "store_test_data.h"

namespace headscope::test {

inline store::Provenance shard_provenance(int index, int count, std::int64_t samples) {
  store::Provenance provenance;
  provenance.command_line = "test";
  provenance.model_name = "synthetic";
  provenance.model_config_json = "{\"model_type\":\"gpt2\"}";
  nlohmann::json settings{{"mode", "teacher_forced"}};
  if (count > 0) settings["shard"] = {{"index", index}, {"count", count}, {"samples", samples}};
  provenance.settings_json = settings.dump();
  return provenance;
}

inline void write_samples(const std::string& path, int begin, int end, int index, int count, bool complete = true) {
  const auto layout = small_layout();
  auto writer = store::StoreWriter::create(path, layout, shard_provenance(index, count, end - begin), true);
  for (int i = begin; i < end; ++i) writer->append(make_sample(layout, i));
  writer->close(complete);
}

inline std::vector<std::string> shard_paths(const std::filesystem::path& dir, int count) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) paths.push_back(store::shard_path((dir / "run.h5").string(), i, count));
  return paths;
}

}  // namespace headscope::test
