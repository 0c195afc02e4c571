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

#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "fuzz/scratch_file.h"
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

// Every read the views and commands make, for every sample.
void read_everything(const std::string& path) {
  namespace hs = headscope;
  const auto reader = hs::store::StoreReader::open(path);
  const auto& layout = reader->layout();
  for (std::int64_t i = 0; i < reader->sample_count(); ++i) {
    (void)reader->sample(i);
    (void)reader->tokens(i);
    (void)reader->token_text(i);
    for (const auto& metric : layout.metrics) {
      (void)reader->head_trace(metric.name, i, {0, 0});
      (void)reader->layer_slice(metric.name, i, layout.layer_count - 1);
    }
    if (layout.flow_size > 0) {
      (void)reader->flow_positions(i);
      (void)reader->flow(i);
    }
    for (const auto& head : layout.pinned_heads) (void)reader->pinned_attention(i, head);
  }
  for (const auto& metric : layout.metrics) (void)reader->summary(metric.name);
  (void)reader->embeddings();
  (void)reader->embedding_sample();
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
    read_everything(path);
  } catch (const headscope::store::StoreError&) {
  }
  try {
    (void)headscope::store::inspect_json(path);
  } catch (const headscope::store::StoreError&) {
  }
  return 0;
}
