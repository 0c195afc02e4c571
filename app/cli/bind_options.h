// Binds a command struct's option table (core/commands/command_options.h) to a CLI11 subcommand: each
// row becomes an option or flag writing the struct's member, lists parsed by core/util/lists.h with the
// flag's name in the message. Header-only, so tests parse what to_arguments() rendered.
#pragma once
#include <CLI/CLI.hpp>

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
          flag, [&value, flag](const std::string& text) { value = parse_listed(parse_number_list, text, flag); }, spec.help);
    } else if constexpr (commands::is_optional<Value>::value) {
      using Given = typename Value::value_type;
      option = cmd->add_option_function<Given>(flag, [&value](const Given& given) { value = given; }, spec.help);
    } else {
      option = cmd->add_option(flag, value, spec.help);
    }
    if (spec.required) option->required();
  });
}

}  // namespace headscope::cli
