// CaptureControl (see capture_control.h): this executable's `capture` subcommand as a child process,
// its argv rendered from the command struct the CLI parses (core/commands/capture_command.h), stderr to
// a log file beside the store.
#include "app/gui/capture_control.h"

#include <filesystem>
#include <stdexcept>

#include "core/io/prompt_set.h"

namespace headscope::app {

std::string CaptureControl::start(commands::CaptureCommand command) {
  if (!std::filesystem::exists(command.model_dir)) throw std::runtime_error(command.model_dir + ": no such model folder");
  CaptureChild child;
  child.model_dir = command.model_dir;
  child.prompts_path = command.prompts_path;
  child.total_samples = io::count_prompts(command.prompts_path);
  const std::string stem = new_output_stem("capture", std::filesystem::path(command.model_dir).filename().string());
  child.out_path = command.out_path = stem + ".h5";
  std::vector<std::string> args{self_executable()};
  for (auto& arg : commands::to_arguments(command)) args.push_back(std::move(arg));
  child.process.start(args, stem + ".log");
  const std::string path = child.out_path;
  children_.add(path, std::move(child));
  return path;
}

}  // namespace headscope::app
