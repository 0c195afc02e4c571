// NumPy .npz archives (a zip of .npy members, stored or deflated, zip64 included) for token shards —
// int32 [n, seq] arrays — read by the importers and the capture engine alike. Members are read on
// demand, inflated with zlib and CRC-checked; errors name the file, the member and the byte offset.
// write_npz() makes small archives for sample files and tests.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/io/npy.h"

namespace headscope::io {

class NpzFile {
 public:
  explicit NpzFile(const std::string& path);                           // reads the central directory
  NpzFile(const std::string& name, std::vector<unsigned char> bytes);  // an archive in memory (tests, fuzzing)
  ~NpzFile();
  NpzFile(const NpzFile&) = delete;
  NpzFile& operator=(const NpzFile&) = delete;

  // Member names without the ".npy" suffix, in archive order (np.savez's keyword names).
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // The member `name` (with or without ".npy"), inflated and parsed. Throws ImportError.
  NpyArray array(const std::string& name) const;
  // A member that must be an integer matrix [rows, columns] (a token shard), as int32.
  std::vector<std::int32_t> int32_matrix(const std::string& name, std::uint64_t& rows, std::uint64_t& columns) const;

 private:
  struct Entry {
    std::string name;  // as stored, e.g. "tokens.npy"
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed = 0, uncompressed = 0, local_header = 0;
  };
  void read_directory();
  std::vector<unsigned char> read_at(std::uint64_t offset, std::uint64_t size, const std::string& what) const;
  const Entry& find(const std::string& name) const;
  [[noreturn]] void fail(std::uint64_t offset, const std::string& what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<unsigned char> memory_;  // used when file_ is null
  std::uint64_t size_ = 0;
  std::vector<Entry> entries_;
};

// Writes an archive of .npy members (name without ".npy", npy bytes), deflated or stored.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, std::vector<unsigned char>>>& members,
               bool deflate);

}  // namespace headscope::io
