// Binds a command struct's option table (core/commands/command_options.h) to a CLI11 subcommand: each
// row becomes an option or flag writing the struct's member, lists parsed by core/util/lists.h with the
// flag's name in the message. Header-only, so tests parse what to_arguments() rendered.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/commands/command_options.h"
#include "core/util/lists.h"

namespace headscope::cli {

// A list option's text parsed by `parse`; a bad item throws std::runtime_error "FLAG: 'x' is not ...".
template <typename Parse>
auto parse_listed(Parse parse, const std::string& text, const std::string& flag) {
  try {
    return parse(text);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(flag + ": " + e.what());
  }
}

// A CLI11 check that the option's number is finite and in the spec's range (OptionSpec::in). Text that is
// not a number passes here: CLI11's own conversion reports it.
inline CLI::Validator range_check(const commands::OptionSpec& spec) {
  return CLI::Validator(
      [spec](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        return end == text.c_str() ? std::string() : spec.range_error(value, false);
      },
      "NUMBER in " + commands::render_value(spec.min) + ".." + commands::render_value(spec.max));
}
// For options declared straight on CLI11: cmd->add_option("--top", top)->check(in_range("--top", 1, 1000)).
inline CLI::Validator in_range(const char* flag, double lowest, double highest) {
  return range_check(commands::OptionSpec{flag, ""}.in(lowest, highest));
}

template <typename Command>
void bind_options(CLI::App* cmd, Command& command) {
  Command::for_each_option([&](const commands::OptionSpec& spec, auto member) {
    auto& value = command.*member;
    using Value = std::decay_t<decltype(value)>;
    const std::string flag = spec.flag;
    CLI::Option* option = nullptr;
    if constexpr (std::is_same_v<Value, bool>) {
      option = cmd->add_flag(spec.negated ? "!" + flag : flag, value, spec.help);
    } else if constexpr (std::is_same_v<Value, store::HeadRef>) {
      option = cmd->add_option_function<std::string>(flag, [&value, flag](const std::string& text) {
        const auto heads = parse_listed(parse_head_list, text, flag);
        if (heads.size() != 1) throw std::runtime_error(flag + ": give one head, L:H");
        value = heads[0];
      }, spec.help);
    } else if constexpr (std::is_same_v<Value, std::vector<store::HeadRef>>) {
      option = cmd->add_option_function<std::string>(
          flag, [&value, flag](const std::string& text) { value = parse_listed(parse_head_list, text, flag); }, spec.help);
    } else if constexpr (std::is_same_v<Value, std::vector<double>>) {
      option = cmd->add_option_function<std::string>(
          flag,
          [&value, flag, spec](const std::string& text) {
            value = parse_listed(parse_number_list, text, flag);
            for (double number : value)
              if (const std::string error = spec.range_error(number); !error.empty()) throw std::runtime_error(error);
          },
          spec.help);
    } else if constexpr (commands::is_optional<Value>::value) {
      using Given = typename Value::value_type;
      option = cmd->add_option_function<Given>(flag, [&value](const Given& given) { value = given; }, spec.help);
      if constexpr (std::is_arithmetic_v<Given>) option->check(range_check(spec));
    } else {
      option = cmd->add_option(flag, value, spec.help);
      if constexpr (std::is_arithmetic_v<Value>) option->check(range_check(spec));
    }
    if (spec.required) option->required();
  });
}

}  // namespace headscope::cli
