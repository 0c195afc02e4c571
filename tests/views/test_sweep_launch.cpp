// "Sweep this head" (views/sweep_launch.h): where a run's model and prompts came from (its provenance),
// the suggested controls (the other heads of the target's layer closest to it in sharpness), the plan's checks and their
// plain-words problems, the child's command line, and the drill-down's launcher drawn in real frames
// without a display (button and popup).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/store/writer.h"
#include "view_test_support.h"
#include "views/data/run_data.h"
#include "views/head_drilldown.h"
#include "views/sweep_launch.h"

using namespace headscope;
using store::HeadRef;

namespace {

const std::string kModel = (test::fixtures_dir() / "hf-reference" / "llama").string();

// Mean max attention per head (layer-major, 4 × 4): layer 3 has H1 < H2 < H0 < H3 (the target, sharpest).
const float kSharpness[16] = {0.30f, 0.31f, 0.32f, 0.33f, 0.40f, 0.41f, 0.15f, 0.43f,
                              0.50f, 0.12f, 0.52f, 0.53f, 0.60f, 0.20f, 0.25f, 0.90f};

// A 4 × 4-head store of 2 samples whose provenance names the hf-reference llama fixture and a prompt set
// beside the store, recorded relative (as a capture run from elsewhere would).
std::string write_run(const std::filesystem::path& dir, const std::string& model_path, const std::string& settings) {
  std::ofstream(dir / "prompts.jsonl") << "{\"id\": \"p0\", \"ids\": [1, 2, 3, 4]}\n";
  store::StoreLayout layout;
  layout.layer_count = 4;
  layout.head_count = 4;
  layout.metrics = store::standard_metrics();
  layout.metric_type = store::ValueType::float32;
  store::Provenance provenance;
  provenance.model_name = "llama";
  provenance.model_path = model_path;
  provenance.settings_json = settings;
  const std::string path = (dir / "run.h5").string();
  auto writer = store::StoreWriter::create(path, layout, provenance, true);
  for (int s = 0; s < 2; ++s) {
    store::SampleRecord sample;
    sample.id = "p" + std::to_string(s);
    const int tokens = 5;
    for (int t = 0; t < tokens; ++t) sample.tokens.push_back(t + 1);
    sample.prompt_length = tokens;
    for (const auto& spec : layout.metrics) {
      std::vector<float> values(static_cast<std::size_t>(tokens) * 16, 0.3f);
      if (spec.name == "max_attention")
        for (int t = 0; t < tokens; ++t)
          for (int j = 0; j < 16; ++j) values[static_cast<std::size_t>(t * 16 + j)] = kSharpness[j] + 0.01f * static_cast<float>(s);
      sample.metrics.push_back(values);
    }
    writer->append(sample);
  }
  writer->close();
  return path;
}

std::string default_settings() { return R"({"mode": "generate", "prompts": "prompts.jsonl", "add_bos": false})"; }

}  // namespace

TEST(SweepLaunch, TheRunsModelAndPromptsFromItsProvenance) {
  const auto dir = test::temp_dir();
  views::DirectRunData run(write_run(dir, kModel, default_settings()));
  const views::RunSources sources = views::run_sources(run.info());
  EXPECT_EQ(sources.model_dir, kModel);
  EXPECT_EQ(sources.inputs_path, (dir / "prompts.jsonl").string()) << "found beside the store";
  EXPECT_EQ(sources.mode, "generate");
  EXPECT_FALSE(sources.add_bos);
}

// Matched on sharpness (issue 19): a control far sharper or more diffuse than the target confounds the ratio.
TEST(SweepLaunch, ControlsAreTheHeadsOfTheLayerClosestInSharpnessThenTheNearestLayers) {
  views::RunInfo info;
  info.layout.layer_count = 4;
  info.layout.head_count = 4;
  std::vector<float> summary(kSharpness, kSharpness + 16);  // one sample
  EXPECT_EQ(views::suggest_sweep_controls(info, summary, {3, 3}), (std::vector<HeadRef>{{3, 0}, {3, 2}}));
  EXPECT_EQ(views::suggest_sweep_controls(info, summary, {3, 3}, 4), (std::vector<HeadRef>{{3, 0}, {3, 2}, {3, 1}, {2, 3}}));
  summary[13] = NAN;  // L3H1 never measured
  EXPECT_EQ(views::suggest_sweep_controls(info, summary, {3, 3}), (std::vector<HeadRef>{{3, 0}, {3, 2}}));
  EXPECT_TRUE(views::suggest_sweep_controls(info, {}, {3, 3}).empty());
}

TEST(SweepLaunch, APlanIsCheckedAndSaysPlainlyWhatIsMissing) {
  const auto dir = test::temp_dir();
  views::DirectRunData run(write_run(dir, kModel, default_settings()));
  views::Selection selection{{3, 3}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  views::SweepLaunchState state;
  ASSERT_TRUE(views::prepare_sweep_launch(context, state));
  EXPECT_EQ(state.controls, "3:0,3:2");
  EXPECT_EQ(state.model, kModel);
  views::SweepPlan plan = views::plan_sweep(run.info(), selection.head, state);
  EXPECT_TRUE(plan.ready()) << plan.problems.front();
  EXPECT_EQ(plan.prompts_path, (dir / "prompts.jsonl").string());
  EXPECT_EQ(plan.max_samples, 8);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("teacher-forces"), std::string::npos) << plan.notes[0];
  EXPECT_EQ(commands::to_arguments(views::sweep_command(plan)),
            (std::vector<std::string>{"sweep", "--model", kModel, "--prompts", (dir / "prompts.jsonl").string(), "--target", "3:3",
                                      "--controls", "3:0,3:2", "--scales", "0.5,0.75,1,1.25,1.5", "--max-samples", "8",
                                      "--threads", "1", "--no-bos"}));

  auto problems_of = [&](views::SweepLaunchState edited) {
    std::string all;
    for (const auto& problem : views::plan_sweep(run.info(), selection.head, edited).problems) all += problem + "\n";
    return all;
  };
  auto edited = state;
  edited.controls = "3:1,x";
  EXPECT_NE(problems_of(edited).find("controls: 'x' is not a head"), std::string::npos);
  edited.controls = "3:3";
  EXPECT_NE(problems_of(edited).find("control L3H3 is the target or listed twice"), std::string::npos);
  edited.controls = "9:0";
  EXPECT_NE(problems_of(edited).find("control L9H0 is outside the run's heads"), std::string::npos);
  edited = state;
  edited.scales = "0.5";
  EXPECT_NE(problems_of(edited).find("scales: give at least two"), std::string::npos);
  edited.scales = "0.5,abc";
  EXPECT_NE(problems_of(edited).find("scales: 'abc' is not a number"), std::string::npos);
  edited = state;
  edited.max_samples = 0;
  EXPECT_NE(problems_of(edited).find("max samples must be at least 1"), std::string::npos);
  edited = state;
  edited.inputs = (dir / "gone.jsonl").string();
  EXPECT_NE(problems_of(edited).find("are not found from here"), std::string::npos);
  edited = state;
  edited.model = dir.string();
  EXPECT_NE(problems_of(edited).find("no config.json in"), std::string::npos);
  edited.controls = "";
  EXPECT_TRUE(views::plan_sweep(run.info(), selection.head, edited).notes.size() == 2) << "no controls is allowed, and said";

  // Another head refills the controls; the fields the user typed for the run stay.
  selection.head = {1, 0};
  state.model = "/elsewhere";
  ASSERT_TRUE(views::prepare_sweep_launch(context, state));
  EXPECT_EQ(state.controls, "1:1,1:3");
  EXPECT_EQ(state.model, "/elsewhere");
}

TEST(SweepLaunch, ARunWithoutAModelPathSaysSo) {
  const auto dir = test::temp_dir();
  views::DirectRunData run(write_run(dir, "", R"({"source": "imported"})"));
  views::Selection selection{{0, 0}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  views::SweepLaunchState state;
  views::prepare_sweep_launch(context, state);
  const auto plan = views::plan_sweep(run.info(), selection.head, state);
  ASSERT_EQ(plan.problems.size(), 2u);
  EXPECT_EQ(plan.problems[0], "this run records no model path (an imported run?): a sweep needs the model; enter its folder");
  EXPECT_EQ(plan.problems[1], "this run records no prompt set or token shard; enter one (.jsonl or .npz)");
}

// The drill-down's control row and the launcher's popup, in real frames without a display.
TEST(SweepLaunch, TheLauncherDrawsWithoutADisplay) {
  const auto dir = test::temp_dir();
  views::DirectRunData run(write_run(dir, kModel, default_settings()));
  views::Selection selection{{3, 3}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  for (const std::string& unavailable : {std::string(), std::string("no capture engine in this build")}) {
    views::HeadDrilldownState state;
    test::HeadlessImGui imgui;
    int vertices[2] = {0, 0};
    for (int frame = 0; frame < 3; ++frame) {
      ImGui::NewFrame();
      ImGui::SetNextWindowPos({0, 0});
      ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
      ImGui::Begin("drill-down", nullptr, ImGuiWindowFlags_NoDecoration);
      if (frame == 1) ImGui::OpenPopup("##sweep-launch");  // as the button does
      views::SweepPlan plan;
      EXPECT_FALSE(views::head_drilldown_controls(context, state, unavailable, &plan));
      ImGui::End();
      ImGui::Render();
      vertices[frame == 0 ? 0 : 1] = ImGui::GetDrawData()->TotalVtxCount;
    }
    EXPECT_GT(vertices[1], vertices[0]) << "the popup drew its fields (" << (unavailable.empty() ? "ready" : unavailable) << ")";
    EXPECT_EQ(state.sweep.controls, "3:0,3:2");
  }
}
