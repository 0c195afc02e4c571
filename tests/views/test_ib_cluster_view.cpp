// The ib-cluster view end to end: `headscope ib` on a small capture store (tests/core/ib_source_store_data.h)
// records where each step came from; the view reads the steps' text, sample ids and levels back from the
// store and the heads' behaviour of a cluster (hand-computed difference at L1H0); it finds the store when
// both files move together, says plainly when the store is gone or the input had no store, draws real
// ImGui frames with its controls and table (the store read on a background thread), and exports through
// the registry and `headscope export --view ib-cluster --cluster ID`.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/analysis/ib/ib_store.h"
#include "core/ib_source_store_data.h"
#include "view_test_support.h"
#include "views/data/ib_source_data.h"
#include "views/ib_cluster_view.h"

using namespace headscope;

namespace {

// The store and `headscope ib` on it: two cells, one per operator, so the IB finds the add and mul clusters.
std::string run_ib(const std::filesystem::path& dir) {
  const std::string store = test::write_ib_source_store(dir / "store.h5"), out = (dir / "ib.h5").string();
  const std::string command = test::headscope_exe().string() + " ib --embeddings " + store + " --out " + out +
                              " --cells 2 --min-size 1 --beta-max 50 --quiet > " + (dir / "ib.log").string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return out;
}

// Index into ib.clusters of the cluster that holds the mul steps (odd steps).
int mul_cluster(const views::IbData& ib) { return ib.step_cluster.at(1); }

std::string figure_text(const views::ResultFile& file, views::IbViewState& state) {
  test::TextCanvas canvas;
  views::draw_ib_cluster_view(canvas, {{0, 0}, {1200, 700}}, file, state);
  return canvas.all;
}

}  // namespace

TEST(IbClusterView, RecordsTheSourceAndShowsStepsAndHeads) {
  const auto dir = test::temp_dir();
  const views::ResultFile file = views::open_result_file(run_ib(dir));
  const views::IbData& ib = *file.ib;
  ASSERT_TRUE(ib.has_source);
  EXPECT_EQ(ib.source_store_path, std::filesystem::absolute(dir / "store.h5").lexically_normal().string());
  EXPECT_EQ(ib.source_store_path_relative, "store.h5");
  EXPECT_FALSE(ib.source_store_created.empty());
  EXPECT_EQ(ib.source_steps.sample, (std::vector<std::int64_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(ib.source_steps.span_start, (std::vector<std::int32_t>{1, 3, 1, 3, 1, 3, 1, 3}));
  ASSERT_EQ(ib.step_membership.size(), 8u);
  ASSERT_EQ(ib.clusters.size(), 2u) << "the IB should split add from mul";
  const int mul = mul_cluster(ib);
  for (int step = 0; step < 8; ++step) EXPECT_EQ(ib.step_cluster[step] == mul, step % 2 == 1) << step;

  const views::IbSourceData::State source = file.ib_source->state();
  ASSERT_EQ(source.status, views::IbSourceData::Status::ready) << source.message;
  EXPECT_EQ(source.metrics, (std::vector<std::string>{"entropy", "max_attention", "iaf"}));
  EXPECT_EQ(source.steps->text[3], "def");
  EXPECT_EQ(source.steps->sample_id[3], "problem-1");
  EXPECT_EQ(source.steps->level[3], 2);
  const auto profile = file.ib_source->profile("entropy");
  ASSERT_TRUE(profile);
  EXPECT_NEAR(profile->difference(mul)[2], 0.9, 1e-5);  // L1H0, by hand in ib_source_store_data.h

  views::IbViewState state;
  ASSERT_TRUE(views::select_ib_cluster(ib, ib.clusters[mul].id, "", state));
  const std::string text = figure_text(file, state);
  for (const char* expected : {"4 of 8 steps", "mul 90%", "problem-3", "def", "L1H0", "+0.9000", "entropy: this cluster"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " in\n" << text;
  EXPECT_EQ(views::ib_cluster_view_title(file, state).rfind("IB cluster " + std::to_string(ib.clusters[mul].id) + ": 4 of 8", 0), 0u);
  EXPECT_FALSE(views::select_ib_cluster(ib, 99, "", state));
  EXPECT_EQ(views::ib_shown_cluster(ib, state), views::ib_shown_cluster(ib, views::IbViewState{})) << "no selection: the largest";
}

TEST(IbClusterView, FindsAMovedStoreAndSaysWhenItIsGone) {
  const auto dir = test::temp_dir();
  std::filesystem::create_directories(dir / "first");
  run_ib(dir / "first");
  // Both files move together: the recorded relative path finds the store.
  std::filesystem::create_directories(dir / "moved");
  std::filesystem::rename(dir / "first" / "store.h5", dir / "moved" / "store.h5");
  std::filesystem::rename(dir / "first" / "ib.h5", dir / "moved" / "ib.h5");
  {
    const views::ResultFile file = views::open_result_file((dir / "moved" / "ib.h5").string());
    const auto state = file.ib_source->state();
    EXPECT_EQ(state.status, views::IbSourceData::Status::ready) << state.message;
    EXPECT_NE(state.store_path.find("moved"), std::string::npos);
  }
  std::filesystem::remove(dir / "moved" / "store.h5");
  const views::ResultFile file = views::open_result_file((dir / "moved" / "ib.h5").string());
  const auto state = file.ib_source->state();
  EXPECT_EQ(state.status, views::IbSourceData::Status::failed);
  EXPECT_NE(state.message.find("the source store is not found"), std::string::npos) << state.message;
  views::IbViewState view_state;
  const std::string text = figure_text(file, view_state);
  EXPECT_NE(text.find("the source store cannot be read"), std::string::npos) << text;
  EXPECT_EQ(text.find("problem-"), std::string::npos) << text;
}

TEST(IbClusterView, PlainEmbeddingsInputSaysSo) {
  const auto dir = test::temp_dir();
  using namespace analysis::ib;
  AnnealResult result;
  result.info_xy = 0.5;
  result.clustering.cluster_count = 2;
  result.curve.push_back({1.0, 0.1, 0.05, 0.1, 2, true, 3});
  IbRunRecord record;
  record.input_source = "emb.npy + labels.npy";
  record.label_names = {"add", "mul"};
  record.labels = {0, 1, 0, 1};
  record.step_cell = {0, 1, 0, 1};
  record.step_assignment = {0, 1, 0, 1};
  record.step_membership = {0.9, 0.8, 0.7, 0.6};
  record.result = &result;
  for (int c = 0; c < 2; ++c) {
    ClusterSummary summary;
    summary.id = c;
    summary.mass = 0.5;
    summary.size = 2;
    summary.label_distribution = {c == 0 ? 1.0 : 0.0, c == 1 ? 1.0 : 0.0};
    summary.label_counts = {c == 0 ? 2 : 0, c == 1 ? 2 : 0};
    record.clusters.push_back(summary);
  }
  write_ib_file((dir / "plain.h5").string(), record);
  const views::ResultFile file = views::open_result_file((dir / "plain.h5").string());
  EXPECT_FALSE(file.ib->has_source);
  const auto state = file.ib_source->state();
  EXPECT_EQ(state.status, views::IbSourceData::Status::no_source);
  EXPECT_NE(state.message.find("emb.npy + labels.npy, a plain embeddings file"), std::string::npos) << state.message;
  views::IbViewState view_state;
  views::select_ib_cluster(*file.ib, 1, "", view_state);
  const std::string text = figure_text(file, view_state);
  EXPECT_NE(text.find("no source store"), std::string::npos) << text;
  EXPECT_NE(text.find("0.800"), std::string::npos) << "members still listed with their q(t|x):\n" << text;
}

TEST(IbClusterView, RendersOnScreenWhileTheStoreLoadsInTheBackground) {
  const auto dir = test::temp_dir();
  const views::ResultFile file = views::open_result_file(run_ib(dir), /*background=*/true);
  test::HeadlessImGui imgui;
  plot::RecordingTextureProvider textures;
  views::ResultViewStates states;
  states.ib.cluster_metric = "max_attention";
  const views::ResultView* view = views::find_result_view("ib-cluster");
  ASSERT_TRUE(view);
  int vertices = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    // Asked before the frame is drawn, so the frame that ends the loop is one drawn with the profile (it
    // once ended on a frame drawn just before the background thread delivered it).
    ready = file.ib_source->profile("max_attention") != nullptr;
    ImGui::NewFrame();
    ImGui::SetNextWindowPos({0, 0});
    ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
    ImGui::Begin("ib-cluster", nullptr, ImGuiWindowFlags_NoDecoration);
    views::ib_cluster_view_controls(file, states.ib);
    plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), &textures, imgui.fonts);
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    view->draw(canvas, {{origin.x, origin.y}, {origin.x + 1200, origin.y + 520}}, file, states);
    ImGui::Dummy({1200, 520});
    views::ib_cluster_steps_table(file, states.ib);
    ImGui::End();
    ImGui::Render();
    vertices = ImGui::GetDrawData()->TotalVtxCount;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(ready) << "the background thread never delivered the profile";
  EXPECT_GT(vertices, 2000);
  EXPECT_GT(textures.uploads, 0) << "the heads grid is a texture";
}

TEST(IbClusterView, ExportsThroughTheRegistryAndTheCommandLine) {
  const auto dir = test::temp_dir();
  const std::string ib_path = run_ib(dir);
  const views::ResultFile file = views::open_result_file(ib_path);
  views::ResultViewStates states;
  const views::ResultView& view = *views::find_result_view("ib-cluster");
  for (const std::string extension : {"pdf", "svg", "png"}) {
    const auto out = dir / ("cluster." + extension);
    views::export_result_view(file, states, view, out.string(), {900, 560, 1});
    EXPECT_GT(std::filesystem::file_size(out), 1000u) << out;
  }
  const std::string exe = test::headscope_exe().string();
  const int mul_id = file.ib->clusters[mul_cluster(*file.ib)].id;
  const auto png = dir / "cli.png";
  const std::string command = exe + " export --run " + ib_path + " --view ib-cluster --cluster " + std::to_string(mul_id) +
                              " --metric max_attention --out " + png.string() + " > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  EXPECT_GT(std::filesystem::file_size(png), 1000u);
  const std::string bad = exe + " export --run " + ib_path + " --view ib-cluster --cluster 99 --out " +
                          (dir / "bad.png").string() + " 2> " + (dir / "bad.txt").string();
  EXPECT_NE(std::system(bad.c_str()), 0);
  std::ifstream error(dir / "bad.txt");
  const std::string message((std::istreambuf_iterator<char>(error)), std::istreambuf_iterator<char>());
  EXPECT_NE(message.find("has no cluster 99"), std::string::npos) << message;
}
