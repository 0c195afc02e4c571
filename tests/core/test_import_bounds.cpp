// Sizes and values read from input are bounded before anything is allocated or stored (issue 15, items 10
// and 11): a CSV row with token_pos 2,000,000,000 or layer 1,000,000, an IAF head key like L999999H0, a
// value beyond float32 (1e308 must not become +inf), and a prompt line too long for any model — each an
// error naming the file, and no store left behind. Run under an address-space limit so an attempt to
// allocate first fails the test fast instead of swapping.
#include <sys/resource.h>

#include <fstream>
#include <string>

#include "core/io/import_support.h"
#include "core/io/prompt_set.h"
#include "import_test_util.h"

using namespace headscope;

namespace {

constexpr const char* kHeader = "sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff\n";

// The address space this process has mapped now (VmSize), in bytes; 0 if unknown.
rlim_t mapped_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmSize:", 0) == 0) return static_cast<rlim_t>(std::stoull(line.substr(7))) * 1024;
  return 0;
}

// Lowers this process's address-space limit to 4 GiB beyond what it has mapped, for the test's lifetime
// (a 19 GB array fails at once instead of swapping); restores it afterwards. Relative to what is mapped,
// so it also holds under AddressSanitizer, whose shadow memory maps terabytes up front.
class AddressSpaceLimit {
 public:
  AddressSpaceLimit() {
    getrlimit(RLIMIT_AS, &saved_);
    rlimit lowered = saved_;
    const rlim_t limit = mapped_bytes() + (rlim_t{4} << 30);
    if (saved_.rlim_cur == RLIM_INFINITY || saved_.rlim_cur > limit) lowered.rlim_cur = limit;
    active_ = setrlimit(RLIMIT_AS, &lowered) == 0;
  }
  ~AddressSpaceLimit() {
    if (active_) setrlimit(RLIMIT_AS, &saved_);
  }

 private:
  rlimit saved_{};
  bool active_ = false;
};

}  // namespace

TEST(ImportBounds, CsvIndicesBeyondAnyModelAreRefusedBeforeAllocating) {
  const auto dir = test::temp_dir();
  const auto out = dir / "csv.h5";
  AddressSpaceLimit limit;
  auto run = [&](const std::string& name, const std::string& rows, const std::vector<std::string>& fragments) {
    const auto csv = test::write_file(dir / name, std::string(kHeader) + rows);
    auto expected = fragments;
    expected.push_back(csv);
    test::expect_import_error([&] { io::import_csv(test::import_options({csv}, out)); }, expected, out);
  };
  run("far_token.csv", "a,0,0,0,1,2,0.5,1\na,0,0,2000000000,1,2,0.5,1\nb,0,0,0,1,2,0.5,1\n", {"line 3", "token_pos 2000000000"});
  run("far_layer.csv", "a,1000000,0,0,1,2,0.5,1\n", {"line 2", "layer 1000000"});
  // Each index within bounds, but the sample's dense array beyond them: 1,000,000 tokens x 32 x 32 heads.
  run("dense.csv", "a,31,31,0,1,2,0.5,1\na,0,0,999999,1,2,0.5,1\n", {"sample 'a'", "split it"});
}

TEST(ImportBounds, CsvLayoutOptionsAreBounded) {
  const auto dir = test::temp_dir();
  const auto out = dir / "csv.h5";
  const auto csv = test::write_file(dir / "ok.csv", std::string(kHeader) + "a,0,0,0,1,2,0.5,1\n");
  auto options = test::import_options({csv}, out);
  options.layers = 100000;
  options.heads = 2;
  test::expect_import_error([&] { io::import_csv(options); }, {"100000 layers"}, out);
}

TEST(ImportBounds, IafHeadKeysAndValuesAreBounded) {
  const auto dir = test::temp_dir();
  const auto out = dir / "iaf.h5";
  AddressSpaceLimit limit;
  const auto huge_layer = test::write_file(dir / "layer/chunk_000.json",
                                           R"([{"idx": 1, "iaf_traces": [{"L999999H0": 0.5}, {"L0H999999": 0.25}]}])");
  test::expect_import_error([&] { io::import_iaf(test::import_options({huge_layer}, out)); },
                            {huge_layer, "1000000 layers"}, out);
  const auto overflow = test::write_file(dir / "value/chunk_000.json",
                                         R"([{"idx": 1, "iaf_traces": [{"L0H0": 0.5}, {"L0H1": 1e308}]}])");
  test::expect_import_error([&] { io::import_iaf(test::import_options({overflow}, out)); },
                            {overflow, "1e+308", "float32"}, out);
}

TEST(ImportBounds, JsdValuesBeyondFloat32AreRefused) {
  const auto dir = test::temp_dir();
  const auto out = dir / "jsd.h5";
  const auto problem = test::write_file(dir / "p0.json", R"({"idx": 0, "jsd_trace": [0.5, -1e300, 0.25]})");
  test::expect_import_error([&] { io::import_jsd(test::import_options({problem}, out)); }, {problem, "jsd_trace", "float32"}, out);
  const auto fine = test::write_file(dir / "ok/p1.json", R"({"idx": 1, "jsd_trace": [0.5, 3e38, null]})");
  EXPECT_NO_THROW(io::import_jsd(test::import_options({fine}, out)));
}

TEST(ImportBounds, PromptLinesAreBounded) {
  const auto dir = test::temp_dir();
  const auto path = (dir / "long.jsonl").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"text\": \"short\"}\n{\"text\": \"";
    const std::string block(1 << 20, 'a');
    for (std::size_t i = 0; i <= io::kMaxPromptLineBytes >> 20; ++i) out << block;
    out << "\"}\n";
  }
  AddressSpaceLimit limit;
  io::PromptReader reader(path);
  EXPECT_TRUE(reader.next().has_value());  // the first line is fine
  try {
    (void)reader.next();
    ADD_FAILURE() << "a line past the bound must be an error";
  } catch (const io::PromptSetError& error) {
    EXPECT_NE(std::string(error.what()).find(path + ":2:"), std::string::npos) << error.what();
  }
  EXPECT_THROW(io::count_prompts(path), io::PromptSetError);
}

// Found by fuzz_prompts: a number no double holds (1e999) threw nlohmann's out_of_range past the readers,
// which caught only parse errors.
TEST(ImportBounds, NumbersBeyondDoubleAreParseErrors) {
  const auto dir = test::temp_dir();
  const auto prompts = test::write_file(dir / "overflow.jsonl", "{\"text\": \"a\", \"level\": 1e999}\n");
  io::PromptReader reader(prompts);
  EXPECT_THROW((void)reader.next(), io::PromptSetError);
  const auto out = dir / "jsd.h5";
  const auto problem = test::write_file(dir / "p0.json", R"({"idx": 0, "jsd_trace": [0.5, 1e999]})");
  test::expect_import_error([&] { io::import_jsd(test::import_options({problem}, out)); }, {problem}, out);
}
