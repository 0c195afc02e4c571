// Subcommand registry storage (see registry.h) and the recorded command line.
#include "app/cli/registry.h"

namespace headscope::cli {

static std::vector<SubcommandSetup>& storage() {
  static std::vector<SubcommandSetup> setups;
  return setups;
}

bool register_subcommand(SubcommandSetup setup) {
  storage().push_back(std::move(setup));
  return true;
}

const std::vector<SubcommandSetup>& registered_subcommands() { return storage(); }

static std::string& command_line_storage() {
  static std::string line;
  return line;
}

const std::string& command_line() { return command_line_storage(); }

static std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;!#~") == std::string::npos) return arg;
  std::string quoted = "'";
  for (char c : arg) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

void set_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    line += shell_quote(argv[i]);
  }
  command_line_storage() = line;
}

}  // namespace headscope::cli
