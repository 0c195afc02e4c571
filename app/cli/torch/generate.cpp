// `headscope generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3) --max-new N [--greedy|--seed S]`:
// runs the model runtime's generation and prints the new ids as a JSON array on the first line, then
// their decoded text when the folder has a tokenizer (otherwise a note on stderr says there is none).
// Uses only the torch-free facade capture/model/runtime.h.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "app/cli/registry.h"
#include "core/commands/command_options.h"
#include "capture/model/runtime.h"
#include "capture/tokenizer/tokenizer.h"

namespace {

struct GenerateCommand {
  std::string model_folder;
  std::string prompt_text;
  std::string prompt_ids;
  int max_new = 16;
  bool greedy = false;
  std::uint64_t seed = 0;
  double temperature = 1.0;
  int top_k = 0;
  bool no_specials = false;
  std::string device = "cpu";
  std::string dtype = "auto";
  std::string adapter;
  int threads = 0;
};

std::vector<std::int64_t> parse_id_list(const std::string& text) {
  std::vector<std::int64_t> ids;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    std::size_t used = 0;
    try {
      ids.push_back(std::stoll(item, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || item.find_first_not_of(" \t", used) != std::string::npos)
      throw std::runtime_error("--prompt-ids: '" + item + "' is not an integer id");
  }
  if (ids.empty()) throw std::runtime_error("--prompt-ids: no ids given");
  return ids;
}

std::string ids_json(const std::vector<std::int64_t>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

void run_generate(const GenerateCommand& command) {
  const auto tokenizer = headscope::tokenizer::load_model_tokenizer(command.model_folder);

  std::vector<std::int64_t> prompt;
  if (!command.prompt_text.empty()) {
    if (!tokenizer)
      throw std::runtime_error(command.model_folder + " has no tokenizer.json or tokenizer.model: use --prompt-ids");
    for (auto id : tokenizer->encode(command.prompt_text, !command.no_specials)) prompt.push_back(id);
  } else {
    prompt = parse_id_list(command.prompt_ids);
  }

  headscope::model::RuntimeOptions runtime_options;
  runtime_options.device = command.device;
  runtime_options.dtype = command.dtype;
  runtime_options.adapter = command.adapter;
  runtime_options.threads = command.threads;
  headscope::model::Runtime runtime(command.model_folder, runtime_options);

  headscope::model::GenerateOptions options;
  options.max_new_tokens = command.max_new;
  options.greedy = command.greedy || command.seed == 0;
  options.seed = command.seed;
  options.temperature = command.temperature;
  options.top_k = command.top_k;
  const auto new_ids = runtime.generate(prompt, options);

  std::printf("%s\n", ids_json(new_ids).c_str());
  if (tokenizer) {
    std::vector<std::int32_t> narrow(new_ids.begin(), new_ids.end());
    std::printf("%s\n", tokenizer->decode(narrow).c_str());
  } else {
    std::fprintf(stderr, "headscope generate: %s has no tokenizer; printed ids only\n", command.model_folder.c_str());
  }
  std::fflush(stdout);
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate tokens with a model (greedy or seeded sampling)");
  auto command = std::make_shared<GenerateCommand>();
  cmd->add_option("--model", command->model_folder, "HuggingFace checkpoint folder (config.json, *.safetensors)")
      ->required()
      ->check(CLI::ExistingPath);
  auto* text = cmd->add_option("--prompt", command->prompt_text, "Prompt text (needs the folder's tokenizer)");
  auto* ids = cmd->add_option("--prompt-ids", command->prompt_ids, "Prompt token ids, comma-separated");
  text->excludes(ids);
  cmd->add_option("--max-new", command->max_new, "Number of new tokens")->check(CLI::NonNegativeNumber);
  auto* greedy = cmd->add_flag("--greedy", command->greedy, "Pick the most likely token (the default)");
  auto* seed = cmd->add_option("--seed", command->seed, "Sample with this seed (positive) instead of greedy")
                   ->check(CLI::PositiveNumber);
  greedy->excludes(seed);
  cmd->add_option("--temperature", command->temperature, "Sampling temperature")->check(CLI::PositiveNumber);
  cmd->add_option("--top-k", command->top_k, "Sample from the k most likely tokens (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-specials", command->no_specials, "Do not add BOS when tokenizing --prompt");
  cmd->add_option("--device", command->device, "cpu, cuda or cuda:N");
  cmd->add_option("--dtype", command->dtype, "float32, float16, bfloat16 or auto (as stored)");
  cmd->add_option(headscope::commands::kAdapterOption.flag, command->adapter, headscope::commands::kAdapterOption.help);
  cmd->add_option("--threads", command->threads, "CPU threads (0: all cores)");
  cmd->callback([command, text, ids] {
    if (text->count() == 0 && ids->count() == 0) throw std::runtime_error("generate: give --prompt or --prompt-ids");
    run_generate(*command);
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
