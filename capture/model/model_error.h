// ModelError: every error the model runtime raises (loading files, parsing config.json, running a
// forward pass). Messages name the file and the tensor or config field at fault, so that a user can
// fix the checkpoint without reading our code. Torch-free: app/ and views/ may include it.
#pragma once
#include <stdexcept>
#include <string>

namespace headscope::model {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace headscope::model
