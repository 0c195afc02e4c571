// Every view renders real ImGui frames without a display: a headless ImGui context (font atlas built,
// NewFrame/Render, no GL) draws each view from a synthetic store; the draw lists must be non-empty, the
// heatmaps must arrive as texture requests, a click on the head grid must select a head everywhere, and
// LiveRunData must fill in over frames, from a file another process is writing, without the UI thread waiting.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "core/store/reader.h"
#include "view_test_support.h"
#include "views/data/attention_tiles.h"
#include "views/data/live_run_data.h"
#include "views/plot/canvas_imgui.h"
#include "views/view_registry.h"

using namespace headscope;

namespace {

struct FrameStats {
  int vertices = 0;
  int commands = 0;
};

// One frame with one window holding `view` drawn into `frame_size`.
FrameStats render_frame(test::HeadlessImGui& imgui, plot::TextureProvider& textures, const views::FigureView& view,
                        views::ViewContext& context, views::ViewStates& states) {
  ImGui::NewFrame();
  ImGui::SetNextWindowPos({0, 0});
  ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
  ImGui::Begin("view", nullptr, ImGuiWindowFlags_NoDecoration);
  plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), &textures, imgui.fonts);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 size = ImGui::GetContentRegionAvail();
  view.draw(canvas, {{origin.x, origin.y}, {origin.x + size.x, origin.y + size.y}}, context, states);
  ImGui::End();
  ImGui::Render();
  FrameStats stats;
  const ImDrawData* data = ImGui::GetDrawData();
  stats.vertices = data->TotalVtxCount;
  for (int i = 0; i < data->CmdListsCount; ++i) stats.commands += data->CmdLists[i]->CmdBuffer.Size;
  return stats;
}

}  // namespace

TEST(ViewsRender, EveryViewDrawsFramesAndRequestsTexturesForMatrices) {
  test::HeadlessImGui imgui;
  views::DirectRunData run(test::small_demo_store());
  views::Selection selection{{2, 1}, 1};  // a pinned head: the attention matrix is stored
  views::NoModelAttentionSource attention;
  views::ViewContext context{&run, &selection, &attention};
  views::ViewStates states;
  for (const auto& view : views::figure_views()) {
    SCOPED_TRACE(view.name);
    plot::RecordingTextureProvider textures;
    FrameStats stats;
    for (int frame = 0; frame < 3; ++frame) stats = render_frame(imgui, textures, view, context, states);
    EXPECT_GT(stats.vertices, 200);
    EXPECT_GT(stats.commands, 0);
    if (view.name == "head-grid" || view.name == "token-heatmap" || view.name == "attention-matrix") {
      EXPECT_GE(textures.requests, 6) << "matrix + colorbar each frame";
      EXPECT_EQ(textures.uploads, 2) << "uploaded once, then reused while the data is unchanged";
    }
  }
}

TEST(ViewsRender, AttentionOfAnUnpinnedHeadAsksTheSourceOrSaysWhatItNeeds) {
  test::HeadlessImGui imgui;
  views::DirectRunData run(test::small_demo_store());
  views::Selection selection{{3, 3}, 0};
  views::ViewStates states;
  const views::FigureView& view = *views::find_figure_view("attention-matrix");
  plot::RecordingTextureProvider textures;
  {
    views::NoModelAttentionSource no_model;
    views::ViewContext context{&run, &selection, &no_model};
    render_frame(imgui, textures, view, context, states);
    EXPECT_EQ(textures.requests, 0);  // a message, no matrix
  }
  int computed = 0;
  views::QueuedAttentionSource model([&](const views::AttentionRequest& request) {
    ++computed;
    views::AttentionResult result;
    result.token_count = run.info().samples[static_cast<std::size_t>(request.sample)].token_count;
    result.values.assign(std::size_t(result.token_count) * result.token_count, 0.0f);
    for (int q = 0; q < result.token_count; ++q) result.values[std::size_t(q) * result.token_count + q] = 1.0f;
    return result;
  });
  views::ViewContext context{&run, &selection, &model};
  for (int frame = 0; frame < 200 && textures.requests == 0; ++frame) {
    render_frame(imgui, textures, view, context, states);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(textures.requests, 0);
  EXPECT_EQ(computed, 1);
}

TEST(ViewsRender, ClickOnTheHeadGridSelectsTheHead) {
  test::HeadlessImGui imgui;
  views::DirectRunData run(test::small_demo_store());
  views::Selection selection{{0, 0}, 0};
  views::ViewContext context{&run, &selection, nullptr};
  views::ViewStates states;
  plot::RecordingTextureProvider textures;
  const views::FigureView& grid = *views::find_figure_view("head-grid");
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = {io.DisplaySize.x * 0.6f, io.DisplaySize.y * 0.6f};
  render_frame(imgui, textures, grid, context, states);
  io.MouseDown[0] = true;
  render_frame(imgui, textures, grid, context, states);
  io.MouseDown[0] = false;
  render_frame(imgui, textures, grid, context, states);
  EXPECT_FALSE(selection.head == (store::HeadRef{0, 0}));
  EXPECT_GT(selection.head.layer, 0);
  EXPECT_GT(selection.head.head, 0);
}

TEST(LiveRunData, FillsInOverFramesWithoutBlockingAndSeesNewSamples) {
  const auto dir = test::temp_dir();
  const std::string path = (dir / "live.h5").string();
  app::DemoStoreOptions options;
  options.layer_count = 3;
  options.head_count = 2;
  options.sample_count = 4;
  options.token_count = 40;
  options.delay_between_samples_ms = 300;
  // The writer runs in another process, as a capture does (HDF5 refuses a second, read-only open of a
  // file this process holds open for SWMR writing).
  const pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    app::write_demo_store(path, options);
    _exit(0);
  }
  // Wait for the file's first committed sample, seen by a reader of our own (opening waits while the
  // writer sets the file up), so the run below opens with at least one.
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20); std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
    try {
      if (std::filesystem::exists(path) && store::StoreReader::open(path)->sample_count() >= 1) break;
    } catch (const store::StoreError&) {
    }
  }
  {
    views::LiveRunData live(path, 50);
    views::Selection selection;
    views::ViewContext context{&live, &selection, nullptr};
    views::ViewStates states;
    test::HeadlessImGui imgui;
    plot::RecordingTextureProvider textures;
    const views::FigureView& grid = *views::find_figure_view("head-grid");
    std::int64_t first_count = -1, last_count = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    double worst_frame_ms = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto start = std::chrono::steady_clock::now();
      live.begin_frame();
      render_frame(imgui, textures, grid, context, states);
      worst_frame_ms = std::max(worst_frame_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (live.info().opened && first_count < 0) first_count = live.info().sample_count;
      last_count = live.info().sample_count;
      if (last_count == options.sample_count && textures.uploads >= 2 && live.pending_requests() == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GE(first_count, 1);
    EXPECT_EQ(last_count, options.sample_count);
    EXPECT_GE(textures.uploads, 2) << "the grid texture was re-uploaded when new samples changed the mean";
    EXPECT_LT(worst_frame_ms, 250) << "a frame never waits on the file";
  }
  int status = 0;
  waitpid(writer, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(AttentionQueue, ANewerRequestWithTheSameTagReplacesTheQueuedOne) {
  views::LatestRequestQueue queue;
  queue.push({"matrix", "a.h5", 0, {1, 1}});
  queue.push({"other", "a.h5", 0, {2, 2}});
  queue.push({"matrix", "a.h5", 3, {4, 5}});
  EXPECT_EQ(queue.size(), 2u);
  views::AttentionRequest first;
  ASSERT_TRUE(queue.pop(&first));
  EXPECT_EQ(first.tag, "matrix");
  EXPECT_EQ(first.sample, 3);
  EXPECT_EQ(first.head, (store::HeadRef{4, 5}));
}

namespace {

// Answers each tile at once (no thread), recording what was asked: rows × bins cells of ones on the diagonal.
class ImmediateTileSource : public views::AttentionSource {
 public:
  explicit ImmediateTileSource(int tokens) : tokens_(tokens) {}
  bool available() const override { return true; }
  std::string reason() const override { return {}; }
  void request(const views::AttentionRequest& request) override {
    ++requests;
    auto result = std::make_shared<views::AttentionResult>();
    result->request = request;
    result->token_count = tokens_;
    const auto spec = views::attention_tile(tokens_, request.level, request.tile_row, request.tile_col);
    result->rows = spec.row_count;
    result->cols = spec.key_bins();
    result->values.assign(std::size_t(result->rows) * result->cols, 0.5f);
    cells += std::int64_t(result->rows) * result->cols;
    result->serial = static_cast<std::uint64_t>(requests);
    latest_ = result;
  }
  std::shared_ptr<const views::AttentionResult> latest(const std::string&) const override { return latest_; }
  bool busy(const std::string&) const override { return false; }
  int requests = 0;
  std::int64_t cells = 0;

 private:
  int tokens_;
  std::shared_ptr<const views::AttentionResult> latest_;
};

}  // namespace

// Issue 16: a 32k-token sample, zoomed out: the view asks for no more cells than the plot has pixels
// (never the 32k² matrix), and zoomed in to 100 tokens it asks for exact cells of that region only.
TEST(ViewsRender, AttentionOfALongSampleRequestsOnlyTheVisibleCells) {
  const auto dir = test::temp_dir();
  app::DemoStoreOptions options;
  options.layer_count = 1;
  options.head_count = 2;
  options.sample_tokens = {32768};
  options.pinned = {};
  const auto path = (dir / "long.h5").string();
  app::write_demo_store(path, options);
  test::HeadlessImGui imgui(1000, 800);
  views::DirectRunData run(path);
  views::Selection selection{{0, 1}, 0};
  views::ViewStates states;
  const views::FigureView& view = *views::find_figure_view("attention-matrix");
  plot::RecordingTextureProvider textures;
  ImmediateTileSource source(32768);
  views::ViewContext context{&run, &selection, &source};
  for (int frame = 0; frame < 60; ++frame) render_frame(imgui, textures, view, context, states);
  const std::int64_t pixels = 1000 * 800;
  EXPECT_GT(source.requests, 0);
  EXPECT_LE(source.cells, pixels);
  EXPECT_EQ(states.attention_matrix.requested_cells, source.cells);
  const int zoomed_out_requests = source.requests;
  states.attention_matrix.plot.x_zoomed = states.attention_matrix.plot.y_zoomed = true;
  states.attention_matrix.plot.x = {20000 - 0.5, 20100 - 0.5};
  states.attention_matrix.plot.y = {20000 - 0.5, 20100 - 0.5};
  const std::int64_t before = source.cells;
  for (int frame = 0; frame < 30; ++frame) render_frame(imgui, textures, view, context, states);
  EXPECT_GT(source.requests, zoomed_out_requests);
  EXPECT_LE(source.cells - before, 4 * std::int64_t(views::kTileCells) * views::kTileCells);  // level 0: at most 2×2 tiles
  EXPECT_EQ(source.latest("")->request.level, 0);
}
