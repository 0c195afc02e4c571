// The current time as ISO-8601 UTC ("2026-11-25T19:41:42Z"), as every HeadScope file's `created`
// attribute records it.
#pragma once
#include <ctime>
#include <string>

namespace headscope {

inline std::string utc_now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace headscope
