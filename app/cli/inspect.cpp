// `headscope inspect FILE [--json]`: what a store holds, without dumping its contents.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/registry.h"
#include "core/store/inspect.h"

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Summarise a HeadScope store: kind, model, samples, metrics, size, live state");
  auto file = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("file", *file, "The store (.h5)")->required();
  cmd->add_flag("--json", *as_json, "Print the summary as JSON");
  cmd->callback([file, as_json] {
    if (*as_json)
      std::printf("%s\n", headscope::store::inspect_json(*file).dump(2).c_str());
    else
      std::printf("%s", headscope::store::inspect_text(*file).c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
