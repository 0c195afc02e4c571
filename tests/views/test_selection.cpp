// The shared selection and a run that is still opening: `headscope view FILE --head 10:5 --sample 1` opened
// on L0H0, sample 0, when the workbench's first frames clamped the selection to the shape of a run whose
// LiveRunData had not opened the file yet (0 layers, 0 samples). The selection now waits for the shape.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "view_test_support.h"
#include "views/data/live_run_data.h"

using namespace headscope;

TEST(Selection, WaitsForTheRunToOpenBeforeClamping) {
  views::Selection selection{{10, 5}, 1};
  views::RunInfo opening;  // a LiveRunData's first frames: nothing known yet
  views::clamp_selection(selection, opening);
  EXPECT_EQ(selection.head.layer, 10);
  EXPECT_EQ(selection.head.head, 5);
  EXPECT_EQ(selection.sample, 1);

  // The workbench's first frames: a LiveRunData publishes nothing before its thread has opened the file.
  views::LiveRunData live(test::small_demo_store());  // 6 layers x 4 heads, 3 samples
  views::Selection wanted{{4, 3}, 2};
  views::clamp_selection(wanted, live.info());
  EXPECT_EQ(store::head_name(wanted.head), "L4H3");
  EXPECT_EQ(wanted.sample, 2);
  for (int frame = 0; frame < 500 && !live.info().opened; ++frame) {
    live.begin_frame();
    views::clamp_selection(wanted, live.info());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(live.info().opened);
  EXPECT_EQ(store::head_name(wanted.head), "L4H3");
  EXPECT_EQ(wanted.sample, 2);

  views::DirectRunData run(test::small_demo_store());
  views::Selection inside{{4, 3}, 2};
  views::clamp_selection(inside, run.info());
  EXPECT_EQ(inside.head.layer, 4);
  EXPECT_EQ(inside.head.head, 3);
  EXPECT_EQ(inside.sample, 2);
  views::clamp_selection(selection, run.info());
  EXPECT_EQ(selection.head.layer, 5);
  EXPECT_EQ(selection.head.head, 3);
  EXPECT_EQ(selection.sample, 1);
}
