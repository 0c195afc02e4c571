// Finds the app's assets (see assets.h).
#include "core/assets.h"

#include <cstdlib>
#include <system_error>

#include "core/version.h"

namespace headscope {

std::vector<std::filesystem::path> asset_dirs(const char* env_assets, const std::filesystem::path& executable) {
  std::vector<std::filesystem::path> dirs;
  if (env_assets && *env_assets) dirs.emplace_back(env_assets);
  if (!executable.empty()) dirs.push_back(executable.parent_path().parent_path() / "share" / "headscope" / "assets");
  dirs.push_back(std::filesystem::path(HEADSCOPE_SOURCE_DIR) / "assets");
  return dirs;
}

std::vector<std::filesystem::path> asset_dirs() {
  std::error_code error;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  return asset_dirs(std::getenv("HEADSCOPE_ASSETS"), error ? std::filesystem::path() : executable);
}

std::string find_asset(const std::vector<std::filesystem::path>& dirs, const std::string& relative) {
  std::error_code error;
  for (const auto& dir : dirs)
    if (std::filesystem::exists(dir / relative, error)) return (dir / relative).string();
  return "";
}

std::string find_asset(const std::string& relative) { return find_asset(asset_dirs(), relative); }

}  // namespace headscope
