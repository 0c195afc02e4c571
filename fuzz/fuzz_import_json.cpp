// libFuzzer target: the JSON importers' parsing without a store — the streaming array reader with the
// IAF per-problem conversion, and the JSD per-problem conversion — on arbitrary bytes written to a
// scratch file (the readers stream from files). Every input must convert or raise ImportError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/io/import.h"
#include "core/io/problem_samples.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/headscope-fuzz-json-" + std::to_string(getpid()) + ".json";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch_path();
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  using namespace headscope::io::detail;
  try {
    IafContext context;
    context.layers = 32;
    context.heads = 32;
    headscope::store::SampleRecord sample;
    stream_json_array(path, "problems", [&](nlohmann::json& problem, const ArrayElement& where) {
      iaf_problem_sample(problem, path, where, context, sample);
    });
  } catch (const headscope::io::ImportError&) {
  }
  try {
    std::set<std::string> used;
    int renamed = 0;
    (void)jsd_problem_sample(path, used, renamed);
  } catch (const headscope::io::ImportError&) {
  }
  return 0;
}
