// Reading an IB run's steps back from their capture store (see ib_source.h), one sample at a time.
#include "core/analysis/ib/ib_source.h"

#include <algorithm>
#include <map>

namespace headscope::analysis::ib {
namespace {

// Steps grouped by sample, in sample order: sample -> step indices.
std::map<std::int64_t, std::vector<std::size_t>> steps_by_sample(const IbStepSource& steps) {
  std::map<std::int64_t, std::vector<std::size_t>> by_sample;
  for (std::size_t i = 0; i < steps.step_count(); ++i) by_sample[steps.sample[i]].push_back(i);
  return by_sample;
}

void require_fit(const store::StoreReader& reader, const IbStepSource& steps) {
  const std::string problem = check_step_source(reader, steps);
  if (!problem.empty()) throw store::StoreError(reader.path() + ": " + problem);
}

}  // namespace

std::string check_step_source(const store::StoreReader& reader, const IbStepSource& steps) {
  if (steps.span_start.size() != steps.step_count() || steps.span_end.size() != steps.step_count())
    return "the IB run's step spans and samples differ in count";
  const std::int64_t samples = reader.sample_count();
  for (const auto& [sample, members] : steps_by_sample(steps)) {
    if (sample < 0 || sample >= samples)
      return "step " + std::to_string(members.front()) + " is in sample " + std::to_string(sample) + ", but the store has " +
             std::to_string(samples) + " samples (was it captured again since the IB run?)";
    const std::int32_t tokens = reader.sample(sample).token_count;
    for (std::size_t step : members)
      if (steps.span_start[step] < 0 || steps.span_end[step] > tokens || steps.span_start[step] > steps.span_end[step])
        return "step " + std::to_string(step) + " spans tokens " + std::to_string(steps.span_start[step]) + "-" +
               std::to_string(steps.span_end[step]) + " of sample " + std::to_string(sample) + ", which has " +
               std::to_string(tokens) + " tokens (was the store captured again since the IB run?)";
  }
  return "";
}

SourceSteps read_source_steps(const store::StoreReader& reader, const IbStepSource& steps) {
  require_fit(reader, steps);
  SourceSteps out;
  out.text.resize(steps.step_count());
  out.sample_id.resize(steps.step_count());
  out.level.assign(steps.step_count(), -1);
  for (const auto& [sample, members] : steps_by_sample(steps)) {
    const store::SampleInfo info = reader.sample(sample);
    const int level = info.facts.level.value_or(-1);
    const std::vector<std::string> tokens = reader.token_text(sample);
    for (std::size_t step : members) {
      std::string text;
      for (std::int32_t t = steps.span_start[step]; t < steps.span_end[step]; ++t) text += tokens[t];
      out.text[step] = std::move(text);
      out.sample_id[step] = info.id;
      out.level[step] = level;
    }
  }
  return out;
}

ClusterHeadProfile cluster_head_profile(const store::StoreReader& reader, const std::string& metric,
                                        const IbStepSource& steps, const std::vector<int>& step_cluster, int cluster_count) {
  if (reader.metric_index(metric) < 0) throw store::StoreError(reader.path() + ": the store has no metric '" + metric + "'");
  if (step_cluster.size() != steps.step_count())
    throw store::StoreError(reader.path() + ": the IB run has " + std::to_string(step_cluster.size()) +
                            " step clusters for " + std::to_string(steps.step_count()) + " steps");
  require_fit(reader, steps);
  const int layers = reader.layout().layer_count, heads = reader.layout().head_count;
  ClusterHeadAccumulator accumulator(cluster_count, layers, heads);
  std::vector<float> values;  // [token, layer, head] of one sample
  for (const auto& [sample, members] : steps_by_sample(steps)) {
    const std::int32_t tokens = reader.sample(sample).token_count;
    values.assign(static_cast<std::size_t>(tokens) * layers * heads, 0.0f);
    for (int layer = 0; layer < layers; ++layer) {
      const std::vector<float> slice = reader.layer_slice(metric, sample, layer);  // [token, head]
      for (std::int32_t t = 0; t < tokens; ++t)
        std::copy_n(&slice[static_cast<std::size_t>(t) * heads], heads, &values[(static_cast<std::size_t>(t) * layers + layer) * heads]);
    }
    std::vector<StepTokens> sample_steps;
    for (std::size_t step : members) sample_steps.push_back({step_cluster[step], steps.span_start[step], steps.span_end[step]});
    accumulator.add_sample(values.data(), tokens, sample_steps);
  }
  return accumulator.profile(metric);
}

}  // namespace headscope::analysis::ib
