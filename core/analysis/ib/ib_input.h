// Step embeddings and labels for the IB, from any of the three sources: an HDF5 file with `embeddings`
// [N, d] (any float type) and `labels` [N] (integers or strings) at its root; a NumPy pair (embeddings
// .npy + labels .npy); or a HeadScope capture store's step-span embeddings. Every error names the file.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace headscope::analysis::ib {

class IbInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StepData {
  std::string source;                    // description of where the data came from
  std::int64_t step_count = 0;
  int dim = 0;
  std::vector<float> embeddings;         // [N, d]
  std::vector<std::string> label_text;   // [N] as read (integers as decimal text)
  std::vector<int> labels;               // [N] index into label_names
  std::vector<std::string> label_names;  // [Y] sorted: numerically when all are integers, else as text
  // Where each step came from, when the input is a HeadScope store; empty for plain embeddings files.
  std::string source_store;                      // the store's path, as given
  std::string source_store_created;              // its `created` attribute (tells a replaced file apart)
  std::vector<std::int64_t> step_sample;         // [N] sample index in the store
  std::vector<std::int32_t> step_span_start;     // [N] first token of the step's span (sample-relative)
  std::vector<std::int32_t> step_span_end;       // [N] one past its last token
};

// embeddings_path: .npy (then labels_path, a .npy, is required), or .h5/.hdf5/.hs (labels_path must be
// empty; a file whose root says format="headscope" is read as a store).
StepData load_step_data(const std::string& embeddings_path, const std::string& labels_path = "");

// Fills labels and label_names from label_text.
void index_labels(StepData& data);

}  // namespace headscope::analysis::ib
