// Where the app's files that are not code (assets/: the figure fonts) are at run time. Searched in order:
// $HEADSCOPE_ASSETS, beside the installed executable (PREFIX/bin/headscope -> PREFIX/share/headscope/assets,
// where `cmake --install` puts them), then the source tree the build came from (a build tree's run).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace headscope {

// The folders searched for an executable at `executable`, given $HEADSCOPE_ASSETS (null when unset).
std::vector<std::filesystem::path> asset_dirs(const char* env_assets, const std::filesystem::path& executable);
// For this process: its environment and /proc/self/exe.
std::vector<std::filesystem::path> asset_dirs();

// The first `dir / relative` that exists, or "" when no folder has it.
std::string find_asset(const std::vector<std::filesystem::path>& dirs, const std::string& relative);
std::string find_asset(const std::string& relative);

}  // namespace headscope
