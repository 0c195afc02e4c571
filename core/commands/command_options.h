// What every command struct shares (core/commands/*_command.h): each CLI command the app launches as a
// child process declares its options once, as a table of {flag, help, member} visited by
// `Command::for_each_option`. The CLI binds that table to CLI11 (app/cli/bind_options.h) and
// to_arguments() renders it back to argv here, so the flags are spelled in one place and
// parse(to_arguments(x)) == x. Torch-free and GUI-free: the CLI, the views and the app include it.
#pragma once
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/store/layout.h"

namespace headscope::commands {

struct OptionSpec {
  const char* flag;          // "--model"; a bool member is a flag: "--overwrite" sets it, "--no-bos" (negated) clears it
  const char* help;
  bool required = false;     // the parse fails without it
  bool always = false;       // rendered even at its default (the argv records it for whoever reads the log)
  bool negated = false;      // bool only: the flag sets the member to false
  // Numbers (and each number of a list): the closed range they must lie in. Every number must be finite.
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();

  constexpr OptionSpec in(double lowest, double highest) const {
    OptionSpec ranged = *this;
    ranged.min = lowest;
    ranged.max = highest;
    return ranged;
  }
  // "" when `value` is finite and in range, else why not: "--jsd-window: 0 is outside 1..1e+06" (without
  // the "--jsd-window: " when !with_flag, for CLI11, which names the option itself).
  std::string range_error(double value, bool with_flag = true) const;
};

// Upper bounds that stand for "no practical limit" in the option tables: counts of tokens, steps, samples.
constexpr double kManySteps = 1e6;
constexpr double kManySamples = 9e15;

// `--progress-every SECONDS`, of every long command (the tables here and app/cli/progress_line.h).
inline constexpr OptionSpec kProgressEveryOption =
    OptionSpec{"--progress-every", "Seconds between plain progress lines when stderr is a file or pipe (a terminal gets one updating line)"}
        .in(0.1, 1e6);

// `--adapter DIR`, of every command that loads a model.
inline constexpr OptionSpec kAdapterOption = OptionSpec{"--adapter", "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors or .bin), merged into the weights at load"};

template <typename T> struct is_optional : std::false_type {};
template <typename T> struct is_optional<std::optional<T>> : std::true_type {};

// Throws std::invalid_argument naming the flag when a number of `command` is outside its option's range
// (for commands not built by the CLI parser, which checks as it parses: app/cli/bind_options.h).
template <typename Command>
void check_option_ranges(const Command& command) {
  Command::for_each_option([&](const OptionSpec& spec, auto member) {
    const auto& value = command.*member;
    using Value = std::decay_t<decltype(value)>;
    auto check = [&](double number) {
      const std::string error = spec.range_error(number);
      if (!error.empty()) throw std::invalid_argument(error);
    };
    if constexpr (std::is_arithmetic_v<Value> && !std::is_same_v<Value, bool>) {
      check(static_cast<double>(value));
    } else if constexpr (std::is_same_v<Value, std::vector<double>>) {
      for (double number : value) check(number);
    } else if constexpr (is_optional<Value>::value) {
      if constexpr (std::is_arithmetic_v<typename Value::value_type>)
        if (value) check(static_cast<double>(*value));
    }
  });
}

// One option's value as its command line writes it.
std::string render_value(const std::string& value);
std::string render_value(int value);
std::string render_value(std::int64_t value);
std::string render_value(std::uint64_t value);
std::string render_value(double value);                              // shortest text that reads back exactly
std::string render_value(store::HeadRef head);                       // "2:1"
std::string render_value(const std::vector<store::HeadRef>& heads);  // "2:1,3:0"
std::string render_value(const std::vector<double>& numbers);        // "0.5,0.75,1"

// The options sweep and gain-scan share, in the order their tables list them: first the model and its
// samples, last how to run and where to write. `C` has members of these names.
template <typename C, typename Visit>
void visit_model_sample_options(Visit&& visit) {
    visit(OptionSpec{"--model", "HuggingFace model folder (config.json, *.safetensors, tokenizer)", true}, &C::model_dir);
    visit(kAdapterOption, &C::adapter);
    visit(OptionSpec{"--prompts", "Prompt set, JSONL with 'text' or 'ids'"}, &C::prompts_path);
    visit(OptionSpec{"--shards", "Token shards: an .npz with an integer [sample, token] member, or a folder of them"},
          &C::shards_path);
    visit(OptionSpec{"--shard-member", "Member of the .npz to read (default: tokens, input_ids, ids, else the first)"},
          &C::shard_member);
}

template <typename C, typename Visit>
void visit_run_options(Visit&& visit) {
    visit(OptionSpec{"--max-samples", "Only the first N samples (-1: all)"}.in(-1, kManySamples), &C::max_samples);
    visit(OptionSpec{"--threads", "CPU threads (0: all cores; more than the cores are capped at them)"}.in(0, kManySteps), &C::threads);
    visit(OptionSpec{"--no-bos", "Do not prepend the tokenizer's BOS token to text prompts", false, false, true}, &C::add_bos);
    visit(OptionSpec{"--device", "cpu, cuda or cuda:N"}, &C::device);
    visit(OptionSpec{"--dtype", "auto (default: as stored), float32, float16 or bfloat16"}, &C::dtype);
    visit(OptionSpec{"--out", "Result file (.h5)", true}, &C::out_path);
    visit(OptionSpec{"--overwrite", "Replace an existing file"}, &C::overwrite);
    visit(kProgressEveryOption, &C::progress_every);
}

// argv after the executable: `subcommand`, then every option whose value differs from the default-made
// Command (or is marked `always`), in the table's order; a set flag as its bare name.
template <typename Command>
std::vector<std::string> render_arguments(const char* subcommand, const Command& command) {
  const Command defaults{};
  std::vector<std::string> argv{subcommand};
  Command::for_each_option([&](const OptionSpec& spec, auto member) {
    const auto& value = command.*member;
    if (!spec.always && value == defaults.*member) return;
    using Value = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<Value, bool>) {
      argv.push_back(spec.flag);
    } else if constexpr (is_optional<Value>::value) {
      if (value) argv.insert(argv.end(), {spec.flag, render_value(*value)});
    } else {
      argv.insert(argv.end(), {spec.flag, render_value(value)});
    }
  });
  return argv;
}

}  // namespace headscope::commands
