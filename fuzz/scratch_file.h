// The fuzzers that read through files (the readers stream from a path) write each input to one scratch
// file per process, in /dev/shm when it is writable: a file on disk costs milliseconds per input.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace headscope::fuzz {

// "<shm or /tmp>/headscope-fuzz-<name>-<pid><extension>".
inline std::string scratch_path(const std::string& name, const std::string& extension) {
  const std::string folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return folder + "/headscope-fuzz-" + name + "-" + std::to_string(getpid()) + extension;
}

// Writes `data` to `path`; false if it cannot.
inline bool write_scratch(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return false;
  if (size > 0) std::fwrite(data, 1, size, file);
  std::fclose(file);
  return true;
}

}  // namespace headscope::fuzz
