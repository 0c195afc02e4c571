// libFuzzer target: the JSON importers' parsing without a store — the streaming array reader with the
// IAF per-problem conversion, the JSD per-problem conversion and the V6 results reading — on arbitrary bytes written to a
// scratch file (the readers stream from files). Every input must convert or raise ImportError.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/io/import.h"
#include "core/io/problem_samples.h"
#include "fuzz/scratch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = headscope::fuzz::scratch_path("json", ".json");
  if (!headscope::fuzz::write_scratch(path, data, size)) return 0;
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
  try {
    for (auto& problem : v6_problems(path)) {
      problem.attention_path.clear();  // the trace alone: no file named by the input is opened
      std::string note;
      (void)v6_sample(problem, false, note);
    }
  } catch (const headscope::io::ImportError&) {
  }
  return 0;
}
