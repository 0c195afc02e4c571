// The sample-file generator (see sample_files.h). Values come from a fixed linear congruential
// generator so the committed files are reproducible; shapes follow the earlier pipelines' files.
#include "core/io/sample_files.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/import.h"
#include "core/io/npy.h"
#include "core/io/npz.h"
#include "core/util/half.h"

namespace headscope::io {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  double uniform() {  // [0, 1)
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state_ >> 11) / 9007199254740992.0;
  }
  int below(int n) { return static_cast<int>(uniform() * n); }
  double round(double v, int digits) { const double scale = std::pow(10.0, digits); return std::round(v * scale) / scale; }

 private:
  std::uint64_t state_;
};

const char* kWords[] = {"Let", " x", " =", " 3", ",", " so", " 2", "x", " +", " 5", " equals", " 11", ".", " The",
                        " answer", " is", " 7", "\n", " Step", " 1", ":", " multiply", " both", " sides"};

void write_text(const fs::path& path, const std::string& text, std::vector<std::string>& written) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw ImportError(path.string() + ": cannot write");
  written.push_back(path.string());
}

void make_jsd(const fs::path& dir, Random& rng, std::vector<std::string>& written) {
  // Shards restart nothing: idx is global, as in the earlier pipeline; one shard is nested a level deeper.
  const char* folders[] = {"shard_00", "shard_00", "shard_01/part_a", "shard_01/part_a", "shard_01/part_b"};
  for (int idx = 0; idx < 5; ++idx) {
    const int n_tokens = 12 + rng.below(10);
    json problem;
    problem["idx"] = idx;
    problem["question"] = "If 2x + 5 = " + std::to_string(11 + 2 * idx) + ", what is x?";
    json tokens = json::array();
    for (int t = 0; t < n_tokens; ++t) tokens.push_back(kWords[(t + idx) % 24]);
    json trace = json::array();
    for (int t = 1; t < n_tokens; ++t) trace.push_back(rng.round(0.02 + 0.4 * rng.uniform() * rng.uniform(), 6));
    problem["jsd_trace"] = trace;
    problem["tokens"] = tokens;
    problem["n_tokens"] = n_tokens;
    problem["gold_answer"] = std::to_string(3 + idx);
    problem["predicted_answer"] = std::to_string(idx == 3 ? 9 : 3 + idx);
    problem["correct"] = idx != 3;
    char name[32];
    std::snprintf(name, sizeof name, "problem_%04d.json", idx);
    write_text(dir / folders[idx] / name, problem.dump(2), written);
  }
}

void make_iaf(const fs::path& dir, Random& rng, std::vector<std::string>& written) {
  const int layers = 24, heads = 16;
  for (int chunk = 0; chunk < 2; ++chunk) {
    json problems = json::array();
    for (int p = 0; p < 3; ++p) {
      const int idx = chunk * 3 + p;
      const int steps = 30 + rng.below(20), prompt = 18 + rng.below(6);
      // A core of heads that is almost always in the top 10, and a churn of others.
      std::vector<std::string> core = {"L22H4", "L20H11", "L17H2", "L23H0", "L14H9", "L21H7"};
      json traces = json::array();
      for (int s = 0; s < steps; ++s) {
        json step = json::object();
        for (const auto& head : core)
          if (rng.uniform() < 0.85) step[head] = rng.round(s % 9 < 6 ? 0.6 + 0.35 * rng.uniform() : 0.05 + 0.3 * rng.uniform(), 4);
        while (step.size() < 10) {
          const std::string head = "L" + std::to_string(rng.below(layers)) + "H" + std::to_string(rng.below(heads));
          if (!step.contains(head)) step[head] = rng.round(0.3 + 0.6 * rng.uniform(), 4);
        }
        traces.push_back(step);
      }
      json top_positions = json::array();
      for (int k = 0; k < 6; ++k) top_positions.push_back(rng.below(prompt));
      problems.push_back({{"idx", idx},
                          {"problem", "Compute " + std::to_string(idx + 2) + " * " + std::to_string(idx + 5) + " - 4."},
                          {"solution", std::to_string((idx + 2) * (idx + 5) - 4)},
                          {"generated_cot", "First multiply, then subtract four. The answer is " + std::to_string((idx + 2) * (idx + 5) - 4) + "."},
                          {"num_tokens", steps},
                          {"prompt_tokens", prompt},
                          {"top_positions", top_positions},
                          {"iaf_traces", traces}});
    }
    char name[32];
    std::snprintf(name, sizeof name, "iaf_chunk_%03d.json", chunk);
    write_text(dir / name, problems.dump(), written);
  }
}

void make_csv(const fs::path& dir, Random& rng, std::vector<std::string>& written) {
  std::string text = "sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff\n";
  const int layers = 4, heads = 4;
  for (int sample = 0; sample < 3; ++sample) {
    const int tokens = 16 + 4 * sample;
    char id[32];
    std::snprintf(id, sizeof id, "gsm8k_%04d", 17 + sample);
    for (int layer = 0; layer < layers; ++layer)
      for (int head = 0; head < heads; ++head)
        for (int pos = 0; pos < tokens; ++pos) {
          char row[160];
          const double max_attn = rng.round(pos == 0 ? 1.0 : 1.0 / (pos + 1) + (1.0 - 1.0 / (pos + 1)) * rng.uniform(), 6);
          const int k_eff = pos == 0 ? 1 : 1 + rng.below(pos + 1);
          if (pos < 2)  // the earlier pipeline left the first two entropies NaN (pandas writes them empty)
            std::snprintf(row, sizeof row, "%s,%d,%d,%d,%.6f,,%.6f,%d.0\n", id, layer, head, pos, rng.round(8 + 10 * rng.uniform(), 6),
                          max_attn, k_eff);
          else
            std::snprintf(row, sizeof row, "%s,%d,%d,%d,%.6f,%.6f,%.6f,%d.0\n", id, layer, head, pos, rng.round(8 + 10 * rng.uniform(), 6),
                          rng.round(std::log(pos + 1.0) * rng.uniform(), 6), max_attn, k_eff);
          text += row;
        }
  }
  write_text(dir / "per_token_metrics.csv", text, written);
}

void make_flow(const fs::path& dir, Random& rng, std::vector<std::string>& written) {
  const int problems = 5, layers = 4, heads = 4, k = 6;
  std::vector<std::uint16_t> halves;  // [problem, layer, head, K, K]
  std::vector<float> mean(static_cast<std::size_t>(layers * heads * k * k), 0.0f);
  for (int p = 0; p < problems; ++p)
    for (int lh = 0; lh < layers * heads; ++lh)
      for (int i = 0; i < k; ++i) {
        // Causal row i over columns 0..i, holding part of the row's mass (the rest lies outside the K positions).
        std::vector<double> row(k, 0.0);
        double total = 0;
        for (int j = 0; j <= i; ++j) total += (row[j] = rng.uniform() + (j == 0 ? 1.0 : 0.0));
        const double inside = 0.3 + 0.6 * rng.uniform();
        for (int j = 0; j < k; ++j) {
          const std::uint16_t h = float_to_half(static_cast<float>(row[j] / total * inside));
          halves.push_back(h);
          mean[static_cast<std::size_t>((lh * k + i) * k + j)] += half_to_float(h) / problems;
        }
      }
  fs::create_directories(dir);
  write_npy((dir / "flow_matrices.npy").string(), "<f2", {problems, layers, heads, k, k}, halves.data(), halves.size() * 2);
  written.push_back((dir / "flow_matrices.npy").string());
  write_npy((dir / "flow_matrices_mean.npy").string(), "<f4", {layers, heads, k, k}, mean.data(), mean.size() * 4);
  written.push_back((dir / "flow_matrices_mean.npy").string());
  std::string ranking = "rank,layer,head,flow,hub_score,skip,composite\n";
  for (int r = 0; r < 8; ++r) {
    char row[128];
    std::snprintf(row, sizeof row, "%d,%d,%d,%.4f,%.4f,%.4f,%.4f\n", r + 1, rng.below(layers), rng.below(heads), 0.9 - 0.05 * r,
                  0.3 - 0.02 * r, 0.2 * rng.uniform(), 0.8 - 0.06 * r);
    ranking += row;
  }
  write_text(dir / "head_rankings.csv", ranking, written);
  json summary = {{"problems", problems}, {"layers", layers}, {"heads", heads}, {"K", k},
                  {"phase_criteria", {{"max_above_0.4_fraction", 0.14}, {"mean_std_across_problems", 0.11},
                                      {"max_hub_score", 0.27}, {"top_composite", 0.8}}}};
  write_text(dir / "flow_summary.json", summary.dump(2), written);
}

void make_tokens(const fs::path& dir, Random& rng, std::vector<std::string>& written) {
  fs::create_directories(dir);
  for (int shard = 0; shard < 2; ++shard) {
    const int rows = 4, seq = 32;
    std::vector<std::int32_t> ids;
    for (int i = 0; i < rows * seq; ++i) ids.push_back(i % seq == 0 ? 1 : 2 + rng.below(32000));
    const auto npy = npy_bytes("<i4", {rows, seq}, ids.data(), ids.size() * 4);
    char name[40];
    std::snprintf(name, sizeof name, "tokens_shard_%03d.npz", shard);
    write_npz((dir / name).string(), {{"tokens", npy}}, /*deflate=*/shard == 0);
    written.push_back((dir / name).string());
  }
}

}  // namespace

std::vector<std::string> make_import_samples(const std::string& dir) {
  std::vector<std::string> written;
  Random rng(20240611);
  const fs::path root(dir);
  make_jsd(root / "jsd", rng, written);
  make_iaf(root / "iaf", rng, written);
  make_csv(root / "csv", rng, written);
  make_flow(root / "flow", rng, written);
  make_tokens(root / "tokens", rng, written);
  return written;
}

}  // namespace headscope::io
