// The HDF5 store: write/read round trip (float16 and float32), summaries, validation that writes
// nothing, the clear errors for bad files, and readers outside HeadScope (h5py, h5dump).
#include <hdf5.h>

#include <cmath>
#include <fstream>

#include "core/store/h5.h"
#include "core/store/inspect.h"
#include "core/store/reader.h"
#include "core/store/schema_table.h"
#include "core/store/writer.h"
#include "core/util/half.h"
#include "store_test_data.h"
#include "test_support.h"

using namespace headscope;
using namespace headscope::store;

namespace {

float stored(float v, ValueType type) { return type == ValueType::float16 ? half_to_float(float_to_half(v)) : v; }

void expect_same_value(float expected, float actual) {
  if (std::isnan(expected)) EXPECT_TRUE(std::isnan(actual));
  else EXPECT_EQ(expected, actual);
}

std::string write_store(const std::filesystem::path& dir, const StoreLayout& layout, int samples) {
  const std::string path = (dir / "run.h5").string();
  Provenance provenance;
  provenance.command_line = "headscope capture --test";
  provenance.model_name = "tiny";
  provenance.model_config_json = R"({"model_type":"gpt2","n_layer":2})";
  provenance.tokenizer_format = "tokenizer.json";
  provenance.tokenizer_bytes = {'{', '}'};
  auto writer = StoreWriter::create(path, layout, provenance);
  for (int i = 0; i < samples; ++i) writer->append(test::make_sample(layout, i));
  writer->close();
  return path;
}

void check_sample_equal(const StoreReader& reader, const StoreLayout& layout, int i) {
  const auto expected = test::make_sample(layout, i);
  const auto info = reader.sample(i);
  EXPECT_EQ(info.id, expected.id);
  EXPECT_EQ(info.metadata_json, expected.metadata_json);
  EXPECT_EQ(info.prompt_length, expected.prompt_length);
  EXPECT_EQ(reader.tokens(i), expected.tokens);
  EXPECT_EQ(reader.token_text(i), expected.token_text);
  const int n = static_cast<int>(expected.tokens.size());
  for (std::size_t m = 0; m < layout.metrics.size(); ++m) {
    for (int layer = 0; layer < layout.layer_count; ++layer) {
      const auto slice = reader.layer_slice(layout.metrics[m].name, i, layer);
      ASSERT_EQ(slice.size(), static_cast<std::size_t>(n * layout.head_count));
      for (int head = 0; head < layout.head_count; ++head) {
        const auto trace = reader.head_trace(layout.metrics[m].name, i, {layer, head});
        ASSERT_EQ(trace.size(), static_cast<std::size_t>(n));
        for (int t = 0; t < n; ++t) {
          const float v = expected.metrics[m][(t * layout.layer_count + layer) * layout.head_count + head];
          expect_same_value(stored(v, layout.metric_type), trace[t]);
          expect_same_value(stored(v, layout.metric_type), slice[t * layout.head_count + head]);
        }
      }
    }
  }
  EXPECT_EQ(reader.flow_positions(i), expected.flow_positions);
  EXPECT_EQ(reader.flow(i), expected.flow);
  EXPECT_EQ(*reader.pinned_attention(i, {1, 2}), expected.pinned_attention[0]);
  EXPECT_FALSE(reader.pinned_attention(i, {0, 0}).has_value());
}

}  // namespace

TEST(Store, RoundTripFloat16) {
  const auto layout = test::small_layout();
  const auto path = write_store(test::temp_dir(), layout, 6);
  auto reader = StoreReader::open(path);
  EXPECT_EQ(reader->sample_count(), 6);
  EXPECT_TRUE(reader->complete());
  EXPECT_FALSE(reader->live());
  EXPECT_EQ(reader->schema_version(), kSchemaVersion);
  EXPECT_EQ(reader->layout().layer_count, 2);
  EXPECT_EQ(reader->layout().metrics.size(), 3u);
  EXPECT_EQ(reader->layout().metrics[0].units, "nats");
  EXPECT_EQ(reader->provenance().command_line, "headscope capture --test");
  EXPECT_EQ(reader->provenance().model_config_json, R"({"model_type":"gpt2","n_layer":2})");
  EXPECT_EQ(reader->provenance().tokenizer_bytes.size(), 2u);
  for (int i = 0; i < 6; ++i) check_sample_equal(*reader, layout, i);
}

TEST(Store, RoundTripFloat32AndSummaries) {
  const auto layout = test::small_layout(ValueType::float32);
  const auto path = write_store(test::temp_dir(), layout, 4);
  auto reader = StoreReader::open(path);
  for (int i = 0; i < 4; ++i) check_sample_equal(*reader, layout, i);
  // Summaries: the NaN-skipping mean over the sample's tokens, per (layer, head).
  const auto summary = reader->summary("iaf");
  const int per_token = layout.layer_count * layout.head_count;
  ASSERT_EQ(summary.size(), static_cast<std::size_t>(4 * per_token));
  for (int i = 0; i < 4; ++i) {
    const auto s = test::make_sample(layout, i);
    const int n = static_cast<int>(s.tokens.size());
    for (int j = 0; j < per_token; ++j) {
      double sum = 0;
      int count = 0;
      for (int t = 0; t < n; ++t)
        if (!std::isnan(s.metrics[2][t * per_token + j])) { sum += s.metrics[2][t * per_token + j]; ++count; }
      EXPECT_NEAR(summary[i * per_token + j], sum / count, 1e-6);
    }
  }
}

TEST(Store, OptInMantissaRoundingKeepsItsBoundAndShrinksTheFile) {
  // Rounding to b mantissa bits keeps every value within a relative 2^-(b+1) of what was given (plus the
  // float16 step itself), keeps NaN, leaves the summaries exact, is recorded in the file, and leaves low
  // bits that shuffle + deflate store in fewer bytes than the lossless file.
  for (const auto type : {ValueType::float16, ValueType::float32}) {
    auto layout = test::small_layout(type);
    layout.chunk_tokens = 64;
    const std::string name = type == ValueType::float16 ? "float16" : "float32";
    const auto root = test::temp_dir();
    std::filesystem::create_directories(root / name / "lossless");
    std::filesystem::create_directories(root / name / "rounded");
    const auto lossless_path = write_store(root / name / "lossless", layout, 12);
    layout.mantissa_bits = 5;
    const auto rounded_path = write_store(root / name / "rounded", layout, 12);
    auto lossless = StoreReader::open(lossless_path);
    auto rounded = StoreReader::open(rounded_path);
    EXPECT_EQ(rounded->layout().mantissa_bits, 5);
    EXPECT_EQ(lossless->layout().mantissa_bits, -1);
    const double bound = std::ldexp(1.0, -6) + (type == ValueType::float16 ? std::ldexp(1.0, -11) : 0.0);
    for (int i = 0; i < 12; ++i) {
      const auto s = test::make_sample(layout, i);
      const int per_token = layout.layer_count * layout.head_count;
      for (std::size_t m = 0; m < layout.metrics.size(); ++m)
        for (int layer = 0; layer < layout.layer_count; ++layer) {
          const auto slice = rounded->layer_slice(layout.metrics[m].name, i, layer);  // [token, head]
          for (std::size_t t = 0; t < s.tokens.size(); ++t)
            for (int h = 0; h < layout.head_count; ++h) {
              const float given = s.metrics[m][t * per_token + layer * layout.head_count + h];
              const float stored = slice[t * layout.head_count + h];
              if (std::isnan(given)) {
                EXPECT_TRUE(std::isnan(stored));
                continue;
              }
              EXPECT_LE(std::fabs(stored - given), bound * std::fabs(given) + 2e-6) << given << " -> " << stored;
            }
        }
    }
    for (const auto& metric : layout.metrics) {
      EXPECT_EQ(rounded->summary(metric.name), lossless->summary(metric.name));
      EXPECT_LT(rounded->metric_storage_bytes(metric.name), lossless->metric_storage_bytes(metric.name)) << metric.name;
    }
    EXPECT_NE(inspect_json(rounded_path)["metric_precision"].get<std::string>().find("5 mantissa bits"), std::string::npos);
  }
  auto layout = test::small_layout();
  layout.mantissa_bits = 11;  // float16 has 10
  EXPECT_THROW(StoreWriter::create((test::temp_dir() / "bad.h5").string(), layout, {}), StoreError);
}

TEST(Store, MantissaRoundingIsToNearestEven) {
  // float16 1.0 + 3 ulp (0x3c03) to 8 bits: the dropped 0b11 is over half, round up to 0x3c04.
  EXPECT_EQ(round_half_mantissa(0x3c03, 8), 0x3c04);
  EXPECT_EQ(round_half_mantissa(0x3c01, 8), 0x3c00);  // under half: down
  EXPECT_EQ(round_half_mantissa(0x3c02, 8), 0x3c00);  // a tie, the kept bit is even: down
  EXPECT_EQ(round_half_mantissa(0x3c06, 8), 0x3c08);  // a tie, the kept bit is odd: up
  EXPECT_EQ(round_half_mantissa(0x3fff, 0), 0x4000);  // 1.999 -> 2: the carry moves into the exponent
  EXPECT_EQ(round_half_mantissa(0x7bff, 0), 0x7800);  // would round to infinity: truncated
  EXPECT_EQ(round_half_mantissa(0x7e00, 3), 0x7e00);  // NaN kept
  EXPECT_EQ(round_half_mantissa(0x3c03, 10), 0x3c03);
  EXPECT_EQ(round_float_mantissa(1.0f + 3 * std::ldexp(1.0f, -23), 21), 1.0f + 4 * std::ldexp(1.0f, -23));
  EXPECT_TRUE(std::isinf(round_float_mantissa(INFINITY, 4)));
}

TEST(Store, EmbeddingsRoundTrip) {
  const auto layout = test::small_layout();
  const auto path = write_store(test::temp_dir(), layout, 5);
  auto reader = StoreReader::open(path);
  const auto all = reader->embeddings();
  const auto owners = reader->embedding_sample();
  std::size_t row = 0;
  for (int i = 0; i < 5; ++i) {
    const auto expected = test::make_sample(layout, i).embeddings;
    for (std::size_t s = 0; s < expected.labels.size(); ++s, ++row) {
      EXPECT_EQ(owners[row], i);
      EXPECT_EQ(all.labels[row], expected.labels[s]);
      EXPECT_EQ(all.span_start[row], expected.span_start[s]);
      EXPECT_EQ(all.span_end[row], expected.span_end[s]);
      for (int d = 0; d < 4; ++d) EXPECT_EQ(all.vectors[row * 4 + d], expected.vectors[s * 4 + d]);
    }
  }
  EXPECT_EQ(static_cast<std::int64_t>(row), reader->embedding_count());
}

TEST(Store, InvalidSampleWritesNothing) {
  const auto layout = test::small_layout();
  const auto path = (test::temp_dir() / "run.h5").string();
  auto writer = StoreWriter::create(path, layout, {});
  writer->append(test::make_sample(layout, 0));
  auto bad = test::make_sample(layout, 1);
  bad.metrics[1].pop_back();
  EXPECT_THROW(writer->append(bad), StoreError);
  bad = test::make_sample(layout, 1);
  bad.prompt_length = 1000;
  EXPECT_THROW(writer->append(bad), StoreError);
  bad = test::make_sample(layout, 1);
  bad.pinned_attention.clear();
  EXPECT_THROW(writer->append(bad), StoreError);
  writer->append(test::make_sample(layout, 1));
  writer->close();
  auto reader = StoreReader::open(path);
  ASSERT_EQ(reader->sample_count(), 2);
  check_sample_equal(*reader, layout, 1);
}

TEST(Store, RefusesToOverwrite) {
  const auto layout = test::small_layout();
  const auto path = write_store(test::temp_dir(), layout, 1);
  EXPECT_THROW(StoreWriter::create(path, layout, {}), StoreError);
}

namespace {
std::string open_error(const std::string& path) {
  try {
    StoreReader::open(path);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Store, BadFilesGiveClearErrors) {
  const auto dir = test::temp_dir();
  // Missing.
  EXPECT_NE(open_error((dir / "missing.h5").string()).find("no such file"), std::string::npos);
  // Not HDF5.
  const auto text = (dir / "notes.h5").string();
  std::ofstream(text) << "sample_id,layer,head\n1,2,3\n";
  const auto not_hdf5 = open_error(text);
  EXPECT_NE(not_hdf5.find("not an HDF5 file"), std::string::npos) << not_hdf5;
  EXPECT_NE(not_hdf5.find(text), std::string::npos);
  // HDF5 but not HeadScope.
  const auto foreign = (dir / "foreign.h5").string();
  {
    h5::Id file(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    h5::write_attribute(file, "title", std::string("something else"));
  }
  EXPECT_NE(open_error(foreign).find("not a HeadScope store"), std::string::npos) << open_error(foreign);
  // Unknown (newer) schema version.
  const auto layout = test::small_layout();
  const auto newer = write_store(dir, layout, 2);
  {
    h5::Id file(H5Fopen(newer.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    h5::write_attribute(file, "schema_version", std::int64_t{99});
  }
  EXPECT_NE(open_error(newer).find("schema version 99 is newer"), std::string::npos) << open_error(newer);
  // Truncated.
  std::filesystem::create_directories(dir / "whole");
  const auto whole = write_store(dir / "whole", layout, 8);
  const auto truncated = (dir / "truncated.h5").string();
  std::filesystem::copy_file(whole, truncated, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) / 2);
  const auto error = open_error(truncated);
  EXPECT_FALSE(error.empty());
  EXPECT_NE(error.find(truncated), std::string::npos) << error;
  // A folder.
  EXPECT_NE(open_error(dir.string()).find("folder"), std::string::npos);
}

TEST(Store, InspectSummarisesWithoutDumping) {
  const auto layout = test::small_layout();
  const auto path = write_store(test::temp_dir(), layout, 3);
  const auto j = inspect_json(path);
  EXPECT_EQ(j["kind"], "capture");
  EXPECT_EQ(j["samples"], 3);
  EXPECT_EQ(j["state"], "complete");
  EXPECT_EQ(j["metrics"].size(), 3u);
  EXPECT_EQ(j["metrics"][0]["shape"][1], 2);
  EXPECT_EQ(j["model"]["model_type"], "gpt2");
  const auto text = inspect_text(path);
  EXPECT_NE(text.find("entropy"), std::string::npos);
  EXPECT_LT(text.size(), 4000u);
}

TEST(Store, ReadableByH5pyWithDimensionNames) {
  const char* python = "/usr/bin/python3";
  if (!std::filesystem::exists(python)) GTEST_SKIP() << "no /usr/bin/python3 (install python3-h5py)";
  const auto layout = test::small_layout();
  const auto path = write_store(test::temp_dir(), layout, 3);
  const auto script = std::filesystem::path(HEADSCOPE_TEST_FIXTURES) / ".." / "core" / "read_store.py";
  const std::string command = std::string(python) + " " + script.string() + " " + path;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  ASSERT_EQ(status, 0) << output;
  const auto s0 = test::make_sample(layout, 0);
  EXPECT_NE(output.find("dims token,layer,head"), std::string::npos) << output;
  EXPECT_NE(output.find("entropy units nats"), std::string::npos) << output;
  EXPECT_NE(output.find("samples 3"), std::string::npos) << output;
  EXPECT_NE(output.find("first id sample-0"), std::string::npos) << output;
  char expected[64];
  std::snprintf(expected, sizeof expected, "entropy[0,1,2] %.4f", stored(s0.metrics[0][(0 * 2 + 1) * 3 + 2], ValueType::float16));
  EXPECT_NE(output.find(expected), std::string::npos) << output << " (expected " << expected << ")";
}

TEST(Store, ReadableByH5dump) {
  if (std::system("command -v h5dump >/dev/null 2>&1") != 0) GTEST_SKIP() << "h5dump not installed (hdf5-tools)";
  const auto layout = test::small_layout();
  const auto path = write_store(test::temp_dir(), layout, 2);
  const std::string command = "h5dump -A " + path + " > " + path + ".txt 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(path + ".txt");
  std::string dump((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(dump.find("\"headscope\""), std::string::npos);
  EXPECT_NE(dump.find("DATASET \"entropy\""), std::string::npos);
}

// Issue 16: a 32k-token sample's trace of one head is one or two chunk reads, whatever sample precedes it,
// and the values read back are those written (reading does not depend on the chunk shape).
TEST(Store, LongSampleChunkingKeepsOneHeadTraceWithinTwoChunks) {
  StoreLayout layout;
  layout.layer_count = 3;
  layout.head_count = 14;  // Qwen2.5-0.5B's heads
  layout.metrics = {standard_metric("entropy")};
  layout.chunk_tokens = schema::chunk_tokens_for_samples(32768);
  ASSERT_EQ(layout.chunk_tokens, 32768);
  const std::string path = (test::temp_dir() / "long.h5").string();
  auto writer = StoreWriter::create(path, layout, Provenance{});
  const int lengths[] = {700, 32768};
  for (int length : lengths) {
    SampleRecord record;
    record.id = "s" + std::to_string(length);
    record.prompt_length = length;
    record.tokens.assign(static_cast<std::size_t>(length), 5);
    std::vector<float> values(std::size_t(length) * 3 * 14);
    for (std::size_t v = 0; v < values.size(); ++v) values[v] = static_cast<float>(v % 1009) / 64.0f;
    record.metrics.push_back(values);
    writer->append(record);
  }
  writer->close();

  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t metric = H5Dopen2(file, "/metrics/entropy", H5P_DEFAULT);
  const hid_t create = H5Dget_create_plist(metric);
  hsize_t chunk[3] = {0, 0, 0};
  ASSERT_EQ(H5Pget_chunk(create, 3, chunk), 3);
  H5Pclose(create);
  H5Dclose(metric);
  H5Fclose(file);
  EXPECT_EQ(chunk[1], 1u);
  auto reader = StoreReader::open(path);
  const auto info = reader->sample(1);
  const hsize_t first_chunk = static_cast<hsize_t>(info.token_start) / chunk[0];
  const hsize_t last_chunk = static_cast<hsize_t>(info.token_start + info.token_count - 1) / chunk[0];
  EXPECT_LE(last_chunk - first_chunk + 1, 2u) << "chunk tokens " << chunk[0];
  const auto trace = reader->head_trace("entropy", 1, {2, 13});
  ASSERT_EQ(trace.size(), 32768u);
  for (std::size_t t = 0; t < trace.size(); t += 997)
    EXPECT_EQ(trace[t], stored(static_cast<float>(((t * 3 + 2) * 14 + 13) % 1009) / 64.0f, ValueType::float16));
}

static const schema::DatasetSpec& metric_spec() {
  for (const auto& spec : schema::capture_datasets())
    if (spec.type == schema::ElementType::metric) return spec;
  throw StoreError("no metric entry in the schema table");
}

TEST(Store, LongSampleChunksOfManyHeadsStayWithinTheChunkByteBound) {
  StoreLayout layout;
  layout.layer_count = 2;
  layout.head_count = 40;
  layout.metrics = {standard_metric("entropy")};
  layout.chunk_tokens = schema::chunk_tokens_for_samples(32768);
  const auto chunk = schema::chunk_shape(metric_spec(), layout);
  ASSERT_EQ(chunk.size(), 3u);
  EXPECT_LE(chunk[0] * chunk[1] * chunk[2] * 2, schema::kMaxChunkBytes);
  EXPECT_EQ(chunk[1], 1u);
  EXPECT_GE(chunk[2] * ((40 + chunk[2] - 1) / chunk[2]), 40u);
  EXPECT_EQ(schema::chunk_tokens_for_samples(512), StoreLayout{}.chunk_tokens);  // short runs keep the tuned default
  layout.chunk_tokens = StoreLayout{}.chunk_tokens;
  const auto standard = schema::chunk_shape(metric_spec(), layout);
  EXPECT_EQ(standard[2], 40u);  // the default chunk holds a layer's every head, as before
}
