// Comma-separated head and number lists (core/util/lists.h), as the sweep command and the workbench's
// sweep launcher read them: spaces and empty items skipped, a bad item named in the error.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/util/lists.h"

using headscope::store::HeadRef;

TEST(Lists, HeadsInBothSpellings) {
  EXPECT_EQ(headscope::parse_head_list("2:1, L3H0,,"), (std::vector<HeadRef>{{2, 1}, {3, 0}}));
  EXPECT_TRUE(headscope::parse_head_list(" ").empty());
  EXPECT_EQ(headscope::format_head_list({{2, 1}, {3, 0}}), "2:1,3:0");
  EXPECT_EQ(headscope::parse_head_list(headscope::format_head_list({{0, 7}})), (std::vector<HeadRef>{{0, 7}}));
  try {
    headscope::parse_head_list("2:1,x7");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "'x7' is not a head (write L:H or L3H5)");
  }
}

TEST(Lists, Numbers) {
  EXPECT_EQ(headscope::parse_number_list("0.5, 0.75,1,1.25 ,1.5"), (std::vector<double>{0.5, 0.75, 1, 1.25, 1.5}));
  EXPECT_THROW(headscope::parse_number_list("0.5,1x"), std::invalid_argument);
  EXPECT_THROW(headscope::parse_number_list("abc"), std::invalid_argument);
}
