// The capture store behind an IB run (the /ib/source group of an ib file: each step's sample and token
// span), read back for the cluster panel: each step's text, sample id and level, and the per-head profile
// of a stored per-token metric over the clusters' steps (cluster_heads.h). Every error names the store.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/ib/cluster_heads.h"
#include "core/store/ib_file.h"
#include "core/store/reader.h"

namespace headscope::analysis::ib {

// Where each step of an IB run is in its store ([step] each), as the ib file stores it.
using IbStepSource = store::IbStepSpans;

// "" when every step fits the store (sample index below its sample count, span inside the sample), else
// a sentence saying which step does not (the store was re-captured or cut since the IB run).
std::string check_step_source(const store::StoreReader& reader, const IbStepSource& steps);

struct SourceSteps {                     // [step] each
  std::vector<std::string> text;         // the span's token texts joined
  std::vector<std::string> sample_id;    // the sample's id
  std::vector<int> level;                // the sample metadata's "level" (difficulty: number of steps); -1 if none
};
// Reads each sample's tokens and metadata once. Throws store::StoreError when the steps do not fit.
SourceSteps read_source_steps(const store::StoreReader& reader, const IbStepSource& steps);

// The per-head profile of `metric` over the clusters (step_cluster [step] in 0..cluster_count-1), reading
// each sample that holds steps once, all layers. Throws store::StoreError naming the store when the metric
// is not stored or the steps do not fit.
ClusterHeadProfile cluster_head_profile(const store::StoreReader& reader, const std::string& metric,
                                        const IbStepSource& steps, const std::vector<int>& step_cluster, int cluster_count);

}  // namespace headscope::analysis::ib
