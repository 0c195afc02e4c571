// CaptureControl (see capture_control.h): this executable's `capture` subcommand as a child process,
// stderr to a log file beside the store.
#include "app/gui/capture_control.h"

#include <filesystem>
#include <stdexcept>

#include "core/io/prompt_set.h"

namespace headscope::app {

std::string CaptureControl::start(const std::string& model_dir, const std::string& prompts_path,
                                  const std::vector<std::string>& extra_arguments) {
  if (!std::filesystem::exists(model_dir)) throw std::runtime_error(model_dir + ": no such model folder");
  CaptureChild child;
  child.model_dir = model_dir;
  child.prompts_path = prompts_path;
  child.total_samples = io::count_prompts(prompts_path);
  const std::string stem = new_output_stem("capture", std::filesystem::path(model_dir).filename().string());
  child.out_path = stem + ".h5";
  std::vector<std::string> args{self_executable(), "capture", "--model", model_dir, "--prompts", prompts_path, "--out", child.out_path};
  args.insert(args.end(), extra_arguments.begin(), extra_arguments.end());
  child.process.start(args, stem + ".log");
  const std::string path = child.out_path;
  children_.add(path, std::move(child));
  return path;
}

}  // namespace headscope::app
