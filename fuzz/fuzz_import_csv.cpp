// libFuzzer target: the per-token metric CSV reader on arbitrary bytes. Every input must either parse
// or raise ImportError; crashes, hangs and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/io/import.h"
#include "core/io/metric_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    headscope::io::MetricCsvReader reader("fuzz.csv", std::string_view(reinterpret_cast<const char*>(data), size));
    headscope::io::MetricCsvRow row;
    while (reader.next(row)) {
    }
  } catch (const headscope::io::ImportError&) {
  }
  return 0;
}
