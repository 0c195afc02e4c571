// Two small runs for the model-comparison tests (core, CLI, views), with flow scores worked out by hand.
// K = 3, one layer of two heads each; row = attending position.
//   A0 = diag(0.5)                          flow 0,     hub 0 (var of [.5,.5,.5]) @0,  skip 1/6
//   A1 = every row to position 0            flow 2/3,   hub 2 (var of [3,0,0])    @0,  skip 1/3
//   B0 = [[1,0,0],[0,1,0],[0,.9,0]]         flow 9/29,  hub 271/450 (var of [1,1.9,0]) @1, skip 0.3
//   B1 = causal uniform                     flow 7/18,  hub 7/18 (var of [11/6,5/6,1/3]) @0, skip 1/3
// Composites normalised per run: A0 0, A1 0.4*2/3 + 0.4 + 0.2 = 13/15; B0 0.4*9/29 + 0.4 = 76/145,
// B1 0.4*7/18 + 0.2 = 16/45. Joint bounds hub [0, 2], skip [1/6, 1/3]: B0 0.4*9/29 + 0.4*271/900 + 0.2*0.8 =
// 26399/65250, B1 0.4*7/18 + 0.4*7/36 + 0.2 = 13/30. (B's skips differ on purpose: min-max normalisation of
// two nearly equal values — 1/3 in float and in double — would blow a rounding error up to a full 0.2.)
#pragma once
#include <string>
#include <vector>

#include "core/store/writer.h"

namespace headscope::test {

// [head, K, K]
inline std::vector<float> comparison_matrices_a() {
  return {0.5f, 0, 0, 0, 0.5f, 0, 0, 0, 0.5f,  //
          1, 0, 0, 1, 0, 0, 1, 0, 0};
}
inline std::vector<float> comparison_matrices_b() {
  const float third = 1.0f / 3;
  return {1, 0, 0, 0, 1, 0, 0, 0.9f, 0,  //
          1, 0, 0, 0.5f, 0.5f, 0, third, third, third};
}

// [head, K, K] flow of a 5-token prompt whose last K tokens are the flow positions.
inline store::SampleRecord comparison_sample(const std::string& id, const std::string& text, std::vector<float> flow, int k) {
  store::SampleRecord s;
  s.id = id;
  s.metadata_json = "{\"text\":\"" + text + "\"}";
  s.tokens = {1, 2, 3, 4, 5};
  s.prompt_length = 5;
  for (int p = 0; p < k; ++p) s.flow_positions.push_back(5 - k + p);
  s.flow = std::move(flow);
  return s;
}

inline std::vector<float> scaled(std::vector<float> values, float factor) {
  for (float& v : values) v *= factor;
  return values;
}

// A store of `model` whose samples p0 and p1 average to `matrices` (1.5x and 0.5x of them); `extra` adds a
// prompt p2 that only this run has, with a flow unlike the others (everything on the last position).
inline void write_comparison_store(const std::string& path, const std::string& model, const std::vector<float>& matrices,
                                   bool extra = false, int flow_size = 3, const std::string& p1_text = "two") {
  store::StoreLayout layout;
  layout.layer_count = 1;
  layout.head_count = 2;
  layout.flow_size = flow_size;
  store::Provenance provenance;
  provenance.model_name = model;
  provenance.settings_json = R"({"flow_select":"last_k","mode":"teacher_forced"})";
  auto writer = store::StoreWriter::create(path, layout, provenance);
  const std::size_t values = static_cast<std::size_t>(2 * flow_size * flow_size);
  auto fit = [&](std::vector<float> flow) {  // another K (the mismatch tests): the values first, zeros after
    flow.resize(values);
    return flow;
  };
  writer->append(comparison_sample("p0", "one", fit(scaled(matrices, 1.5f)), flow_size));
  writer->append(comparison_sample("p1", p1_text, fit(scaled(matrices, 0.5f)), flow_size));
  if (extra) {
    std::vector<float> last(values, 0.0f);
    for (std::size_t r = 0; r < values / flow_size; ++r) last[r * flow_size + flow_size - 1] = 1;
    writer->append(comparison_sample("p2", "three", last, flow_size));
  }
}

}  // namespace headscope::test
