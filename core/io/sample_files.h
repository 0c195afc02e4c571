// Writes small, realistic files in each format the importers read (samples/imports/ is made by this,
// through the hidden `headscope import --make-samples DIR`): per-problem JSD JSON in nested shard folders,
// chunked IAF JSON with sparse top-10 heads, a per-token metric CSV with NaN entropies at the first two
// positions, float16 and float32 flow .npy files with a ranking CSV and a JSON summary, and .npz token
// shards (one deflated, one stored). Deterministic: the same files every time.
#pragma once
#include <string>
#include <vector>

namespace headscope::io {

// Creates DIR/{jsd,iaf,csv,flow,tokens}/...; returns the paths written.
std::vector<std::string> make_import_samples(const std::string& dir);

}  // namespace headscope::io
