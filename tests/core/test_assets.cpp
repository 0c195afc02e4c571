// Finding the app's assets at run time (core/assets.h): $HEADSCOPE_ASSETS first, then the install prefix
// beside the executable (PREFIX/bin -> PREFIX/share/headscope/assets), then the source tree; and the
// figure font the repository ships in assets/fonts/.
#include <gtest/gtest.h>

#include <fstream>

#include "core/assets.h"
#include "test_support.h"

using namespace headscope;

TEST(Assets, SearchesTheEnvironmentThenTheInstallPrefixThenTheSourceTree) {
  const auto dir = test::temp_dir();
  const auto prefix = dir / "prefix", own = dir / "own";
  std::filesystem::create_directories(prefix / "share" / "headscope" / "assets" / "fonts");
  std::filesystem::create_directories(own / "fonts");
  std::ofstream(prefix / "share" / "headscope" / "assets" / "fonts" / "x.ttf") << "installed";
  std::ofstream(own / "fonts" / "x.ttf") << "own";

  const auto installed = asset_dirs(nullptr, prefix / "bin" / "headscope");
  ASSERT_EQ(installed.size(), 2u);
  EXPECT_EQ(installed[0], prefix / "share" / "headscope" / "assets");
  EXPECT_EQ(find_asset(installed, "fonts/x.ttf"), (installed[0] / "fonts/x.ttf").string());
  EXPECT_EQ(find_asset(installed, "fonts/missing.ttf"), "");

  const auto overridden = asset_dirs(own.c_str(), prefix / "bin" / "headscope");
  EXPECT_EQ(find_asset(overridden, "fonts/x.ttf"), (own / "fonts/x.ttf").string());
  EXPECT_EQ(asset_dirs("", prefix / "bin" / "headscope").size(), 2u);  // an empty variable is unset
}

TEST(Assets, TheBuildTreeFindsTheShippedFigureFont) {
  const std::string font = find_asset("fonts/DejaVuSans.ttf");
  ASSERT_FALSE(font.empty());
  EXPECT_GT(std::filesystem::file_size(font), 100000u);
  EXPECT_FALSE(find_asset("fonts/DejaVuSans-Bold.ttf").empty());
}
