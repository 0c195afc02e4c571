// Subcommand registry of the `headscope` executable. Each subcommand lives in its own file under
// app/cli/ (app/cli/torch/ when it needs libtorch) and registers itself at static-initialisation time:
//
//   static void setup(CLI::App& app) { auto* cmd = app.add_subcommand("inspect", "..."); ... }
//   HEADSCOPE_REGISTER_SUBCOMMAND(setup);
//
// main() builds the CLI::App, calls every registered setup, parses and runs the chosen subcommand.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace CLI { class App; }

namespace headscope::cli {

using SubcommandSetup = std::function<void(CLI::App&)>;

// Adds a setup function; returns true so it can initialise a static.
bool register_subcommand(SubcommandSetup setup);
const std::vector<SubcommandSetup>& registered_subcommands();

// The exact command line of this process, as written into stores' provenance.
const std::string& command_line();
void set_command_line(int argc, char** argv);

}  // namespace headscope::cli

#define HEADSCOPE_CLI_CONCAT2(a, b) a##b
#define HEADSCOPE_CLI_CONCAT(a, b) HEADSCOPE_CLI_CONCAT2(a, b)
#define HEADSCOPE_REGISTER_SUBCOMMAND(fn) \
  static const bool HEADSCOPE_CLI_CONCAT(headscope_registered_, __LINE__) = ::headscope::cli::register_subcommand(fn)
