// One heartbeat computation: on a store where the definitions disagree, `analyze` (analyze_store), the
// heartbeat view's data model (RunData::heartbeats) and the counts the view draws give the same counts,
// top heads and calibration, for both definitions. (`headscope heartbeats` prints the same computation:
// tests/app/test_cli_heartbeats.cpp compares the two commands' tables.)
#include <gtest/gtest.h>

#include "../core/heartbeat_store_data.h"
#include "core/analysis/store_analysis.h"
#include "core/store/reader.h"
#include "view_test_support.h"
#include "views/view_registry.h"

using namespace headscope;

TEST(HeartbeatAgreement, AnalyzeTheViewModelAndTheDrawnCountsAgreeForBothDefinitions) {
  const std::string path = test::heartbeat_definitions_store("heartbeat-agreement.h5");
  views::DirectRunData run(path);
  for (auto definition : {analysis::HeartbeatDefinition::debounced, analysis::HeartbeatDefinition::drop}) {
    SCOPED_TRACE(analysis::heartbeat_definition_name(definition));
    analysis::StoreAnalysisOptions options;
    options.heartbeat.definition = definition;
    const auto analyzed = analysis::analyze_store(*store::StoreReader::open(path), options);
    const auto model = run.heartbeats(options.heartbeat);
    ASSERT_TRUE(model);
    EXPECT_EQ(model->counts, analyzed.heartbeat_counts);
    ASSERT_EQ(model->ranking.size(), analyzed.telegraph_ranking.size());
    for (std::size_t r = 0; r < model->ranking.size(); ++r) {
      EXPECT_EQ(model->ranking[r].layer, analyzed.telegraph_ranking[r].layer);
      EXPECT_EQ(model->ranking[r].head, analyzed.telegraph_ranking[r].head);
    }
    const auto calibration = model->calibration();
    ASSERT_EQ(calibration.size(), analyzed.calibration.size());
    for (std::size_t row = 0; row < calibration.size(); ++row) EXPECT_EQ(calibration[row].mean, analyzed.calibration[row].mean);
    // The METRICS.md example: L0H0 counts 2 under drop, 1 debounced, in every sample.
    const int expected = definition == analysis::HeartbeatDefinition::drop ? 2 : 1;
    for (int s = 0; s < model->sample_count; ++s) EXPECT_EQ(model->count(s, {0, 0}), expected);

    // What the view draws for the selected head is that count.
    test::TextCanvas canvas;
    views::Selection selection{{0, 0}, 2};
    views::ViewContext context{&run, &selection, nullptr};
    views::ViewStates states;
    states.heartbeat.options.definition = definition;
    views::find_figure_view("heartbeat")->draw(canvas, {{0, 0}, {900, 600}}, context, states);
    EXPECT_NE(canvas.all.find("L0H0 (selected): " + std::to_string(expected) + " heartbeats"), std::string::npos) << canvas.all;
  }
}
