// The .npz reader shared with the capture engine: stored and deflated members round-trip as int32
// token shards; the committed sample shards read; damaged archives fail naming the file and offset.
#include "core/io/npz.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(Npz, StoredAndDeflatedRoundTrip) {
  const auto dir = test::temp_dir();
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 3 * 50; ++i) ids.push_back(i * 7919 % 50000 - (i == 5 ? 100 : 0));
  const float weights[2] = {0.5f, 2.0f};
  for (bool deflate : {false, true}) {
    const auto path = (dir / (deflate ? "d.npz" : "s.npz")).string();
    io::write_npz(path, {{"tokens", io::npy_bytes("<i4", {3, 50}, ids.data(), ids.size() * 4)},
                         {"weights", io::npy_bytes("<f4", {2}, weights, sizeof weights)}}, deflate);
    io::NpzFile npz(path);
    EXPECT_EQ(npz.names(), (std::vector<std::string>{"tokens", "weights"}));
    std::uint64_t rows = 0, columns = 0;
    EXPECT_EQ(npz.int32_matrix("tokens", rows, columns), ids);
    EXPECT_EQ(rows, 3u);
    EXPECT_EQ(columns, 50u);
    EXPECT_EQ(npz.array("weights.npy").to_floats(), (std::vector<float>{0.5f, 2.0f}));
    EXPECT_THROW(npz.array("missing"), io::ImportError);
    EXPECT_THROW(npz.int32_matrix("weights", rows, columns), io::ImportError);  // 1-D
  }
}

TEST(Npz, CommittedSampleShards) {
  const auto samples = test::samples_dir() / "tokens";
  HEADSCOPE_REQUIRE_PATH(samples);
  for (const char* name : {"tokens_shard_000.npz", "tokens_shard_001.npz"}) {
    io::NpzFile npz((samples / name).string());
    std::uint64_t rows = 0, columns = 0;
    const auto ids = npz.int32_matrix("tokens", rows, columns);
    EXPECT_EQ(rows, 4u);
    EXPECT_EQ(columns, 32u);
    EXPECT_EQ(ids[0], 1);
  }
}

TEST(Npz, DamagedArchivesNameTheOffset) {
  const auto dir = test::temp_dir();
  std::vector<std::int32_t> ids(64, 42);
  const auto path = (dir / "t.npz").string();
  io::write_npz(path, {{"tokens", io::npy_bytes("<i4", {8, 8}, ids.data(), ids.size() * 4)}}, true);
  const auto good = read_bytes(path);
  auto expect_error = [&](std::vector<unsigned char> bytes, const std::string& fragment) {
    try {
      io::NpzFile npz("t.npz", std::move(bytes));
      npz.array("tokens");
      ADD_FAILURE() << "expected an error";
    } catch (const io::ImportError& e) {
      EXPECT_NE(std::string(e.what()).find("t.npz"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("byte "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(std::vector<unsigned char>(good.begin(), good.begin() + 40), "end-of-central-directory");
  auto corrupt = good;
  corrupt[30 + 10 + 5] ^= 0xff;  // inside the deflate stream
  expect_error(corrupt, "");
  auto method = good;
  method[good.size() - 22 - 46 - 10 + 10] = 12;  // the central directory's method field (bzip2)
  expect_error(method, "compression method 12");
  expect_error(std::vector<unsigned char>{'P', 'K'}, "too short");
}
