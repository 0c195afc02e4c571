// libFuzzer target: the store reader on corrupted files. At start a small but complete store (every
// dataset: metrics, summaries, flow, pinned attention, span embeddings) is written once; each input is a
// list of byte patches (and an optional truncation) applied to a copy of it. Opening the patched file and
// reading every sample through StoreReader, and `inspect`, must succeed or raise StoreError: never crash,
// hang (run with -timeout=10) or allocate without bound (-rss_limit_mb).
//   build-fuzz/fuzz/fuzz_store_reader -timeout=10 -rss_limit_mb=2048 build-fuzz/corpus-store fuzz/corpus/store_reader
// Input: byte 0 bit 0 set = truncate to (bytes 1..4 as uint32) mod size; then 5-byte records
// (uint32 offset mod size, new byte value), at most 64.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/store/writer.h"
#include "fuzz/scratch_file.h"
#include "tests/core/read_whole_store.h"
#include "tests/core/store_test_data.h"

namespace {

const std::vector<std::uint8_t>& base_store() {
  static const std::vector<std::uint8_t> bytes = [] {
    namespace hs = headscope;
    const std::string path = headscope::fuzz::scratch_path("store-base", ".h5");
    const auto layout = hs::test::small_layout();
    {
      hs::store::Provenance provenance;
      provenance.command_line = "fuzz base";
      auto writer = hs::store::StoreWriter::create(path, layout, provenance, true);
      for (int i = 0; i < 3; ++i) writer->append(hs::test::make_sample(layout, i));
      writer->close();
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::remove(path.c_str());
    return out;
  }();
  return bytes;
}

std::uint32_t read_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> file = base_store();
  if (size >= 5 && (data[0] & 1)) file.resize(read_u32(data + 1) % file.size());
  const std::size_t first = size >= 5 && (data[0] & 1) ? 5 : (size > 0 ? 1 : 0);
  for (std::size_t at = first, patches = 0; at + 5 <= size && patches < 64 && !file.empty(); at += 5, ++patches)
    file[read_u32(data + at) % file.size()] = data[at + 4];
  static const std::string path = headscope::fuzz::scratch_path("store", ".h5");
  if (!headscope::fuzz::write_scratch(path, file.data(), file.size())) return 0;
  try {
    headscope::test::read_whole_store(path);
  } catch (const headscope::store::StoreError&) {
  }
  return 0;
}
