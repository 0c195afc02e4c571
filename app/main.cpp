// headscope: one executable for the whole workbench. With no arguments it opens the workbench window
// on the bundled sample model (when built with the GUI); otherwise it runs a subcommand
// (`headscope --help` lists them). Every subcommand registers itself from its own file (cli/registry.h).
#include <CLI/CLI.hpp>
#include <hdf5.h>

#include <cstdio>
#include <exception>

#include "app/cli/registry.h"
#include "core/version.h"

namespace headscope::app {
// Defined in app/gui/view_command.cpp when the GUI is built; otherwise in app/default_workbench.cpp.
int run_default_workbench(int argc, char** argv);
}

int main(int argc, char** argv) {
  // No HDF5 clean-up at exit: every file is closed by its owner before then, and after a write that failed
  // (a full disk) HDF5 1.10's exit handler crashes closing the half-closed dataset (SIGSEGV in H5D_close)
  // instead of letting the command report the error and exit 1. Must precede every other HDF5 call.
  H5dont_atexit();
  headscope::cli::set_command_line(argc, argv);
  CLI::App app{"HeadScope: explore the attention heads of transformer language models", "headscope"};
  app.set_version_flag("--version", std::string("headscope ") + HEADSCOPE_VERSION);
  app.require_subcommand(0, 1);
  for (const auto& setup : headscope::cli::registered_subcommands()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "headscope: %s\n", e.what());
    return 1;
  }
  if (app.get_subcommands().empty()) return headscope::app::run_default_workbench(argc, argv);
  return 0;
}
