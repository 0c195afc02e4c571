// `headscope` with no arguments in a build without the GUI (HEADSCOPE_WITH_GUI=OFF): there is no window
// to open, so say so and summarise the bundled sample store instead.
#ifndef HEADSCOPE_HAS_GUI
#include <cstdio>
#include <filesystem>

#include "core/store/inspect.h"
#include "core/version.h"

namespace headscope::app {

int run_default_workbench(int, char**) {
  std::printf("headscope %s was built without the GUI (HEADSCOPE_WITH_GUI=OFF); run `headscope --help`.\n",
              HEADSCOPE_VERSION);
  const std::filesystem::path sample = std::filesystem::path(HEADSCOPE_SOURCE_DIR) / "samples" / "sample.h5";
  if (std::filesystem::exists(sample)) std::printf("%s", store::inspect_text(sample.string()).c_str());
  return 0;
}

}  // namespace headscope::app
#endif
