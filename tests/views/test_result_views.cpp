// The sweep, sweep-gains and ib views of result files: a small sweep file written in the documented
// layout (docs/store-format.md "Sweep files") straight with core/store/h5.h, and a small ib file through
// core/analysis/ib's writer; the readers' values and errors, real ImGui frames without a display, export
// to PDF, SVG and PNG, and `headscope export` on both kinds (with --help listing the views).
#include <gtest/gtest.h>
#include <cairo.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "export_checks.h"
#include "core/analysis/ib/ib_store.h"
#include "core/store/h5.h"
#include "view_test_support.h"
#include "views/plot/canvas_imgui.h"
#include "views/view_registry.h"

using namespace headscope;

namespace {

using test::read_all;

// A query-scale sweep of L1H2 against controls L0H0 and L3H1 at five scales; the target's max attention
// rises 0.2 per ln(scale), the controls' barely. Checks pass; no null result. With `done` < 5 it is the
// file of a sweep still running: the first `done` scales in, the rest NaN, no ratios, gains from 3 on.
std::string write_small_sweep(const std::filesystem::path& dir, const std::string& null_result = "", hsize_t done = 5) {
  const std::string path = (dir / ("sweep" + (done < 5 ? "-" + std::to_string(done) : std::string()) + ".h5")).string();
  h5::quiet_errors();
  h5::Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  h5::write_attribute(file, "format", std::string("headscope"));
  h5::write_attribute(file, "schema_version", std::int64_t{1});
  h5::write_attribute(file, "kind", std::string("sweep"));
  h5::write_attribute(file, "created", std::string("2024-01-01T00:00:00Z"));
  h5::write_attribute(file, "command_line", std::string("headscope sweep --target 1:2 --controls 0:0,3:1"));
  h5::write_attribute(file, "complete", std::int64_t{done == 5});
  {
    h5::Id model = h5::create_group(file, "/model", path);
    h5::write_attribute(model, "name", std::string("tiny-test"));
  }
  h5::Id sweep = h5::create_group(file, "/sweep", path);
  h5::write_attribute(sweep, "intervention", std::string("query_scale"));
  h5::write_attribute(sweep, "target", std::string("L1H2"));
  h5::write_attribute(sweep, "expected_directions",
                      std::vector<std::string>{"entropy: down as the scale grows", "max_attention: up as the scale grows",
                                               "k90: down as the scale grows"});
  h5::write_attribute(sweep, "sample_count", std::int64_t{4});
  h5::write_attribute(sweep, "token_count", std::int64_t{200});
  h5::write_attribute(sweep, "baseline_loss", 2.5);
  h5::write_attribute(sweep, "null_result", null_result);
  h5::write_attribute(sweep, "spread", std::string("std = sample standard deviation (n - 1)"));
  if (done < 5) {
    h5::write_attribute(sweep, "baseline_done", std::int64_t{1});
    h5::write_attribute(sweep, "conditions_done", static_cast<std::int64_t>(done));
    std::vector<std::int64_t> mask(5, 0);
    for (hsize_t c = 0; c < done; ++c) mask[c] = 1;
    h5::write_array(sweep, "condition_done", H5T_STD_I64LE, H5T_NATIVE_INT64, {5}, mask.data(), path, {"condition"});
  }
  const std::vector<double> scales = {0.5, 0.75, 1.0, 1.25, 1.5};
  const hsize_t conditions = scales.size(), heads = 3;
  h5::write_array(sweep, "scales", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {conditions}, scales.data(), path, {"condition"});
  h5::write_attribute(h5::Id(h5::open_dataset(sweep, "scales", path)), "condition_names",
                      std::vector<std::string>{"scale 0.5", "scale 0.75", "scale 1", "scale 1.25", "scale 1.5"});
  const std::vector<std::int32_t> pairs = {1, 2, 0, 0, 3, 1};
  h5::write_array(sweep, "heads", H5T_STD_I32LE, H5T_NATIVE_INT32, {heads, 2}, pairs.data(), path, {"head", "layer_head"});
  {
    h5::Id dataset = h5::open_dataset(sweep, "heads", path);
    h5::write_attribute(dataset, "names", std::vector<std::string>{"L1H2", "L0H0", "L3H1"});
    h5::write_attribute(dataset, "roles", std::vector<std::string>{"target", "control", "control"});
  }
  const double slope[3] = {0.2, 0.02, -0.01};
  const char* metrics[3] = {"entropy", "max_attention", "k90"};
  for (int m = 0; m < 3; ++m) {
    std::vector<double> mean, spread, base_mean, base_spread;
    std::vector<std::int64_t> n, base_n;
    for (hsize_t c = 0; c < conditions; ++c)
      for (hsize_t h = 0; h < heads; ++h) {
        const double x = std::log(scales[c]) * slope[h];
        mean.push_back(c >= done ? NAN : m == 0 ? 2.0 - 3 * x : m == 1 ? 0.4 + x : 12 - 20 * x);
        spread.push_back(c >= done ? NAN : m == 0 ? 0.5 : m == 1 ? 0.1 : 3);
        n.push_back(c >= done ? 0 : 200);
      }
    for (hsize_t h = 0; h < heads; ++h) {
      base_mean.push_back(m == 0 ? 2.0 : m == 1 ? 0.4 : 12);  // scale 1
      base_spread.push_back(m == 0 ? 0.5 : m == 1 ? 0.1 : 3);
      base_n.push_back(200);
    }
    const std::string name = metrics[m];
    h5::write_array(sweep, name + "_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {conditions, heads}, mean.data(), path);
    h5::write_array(sweep, name + "_std", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {conditions, heads}, spread.data(), path);
    h5::write_array(sweep, name + "_n", H5T_STD_I64LE, H5T_NATIVE_INT64, {conditions, heads}, n.data(), path);
    h5::write_array(sweep, "baseline_" + name + "_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {heads}, base_mean.data(), path);
    h5::write_array(sweep, "baseline_" + name + "_std", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {heads}, base_spread.data(), path);
    h5::write_array(sweep, "baseline_" + name + "_n", H5T_STD_I64LE, H5T_NATIVE_INT64, {heads}, base_n.data(), path);
  }
  const std::vector<double> loss(conditions * heads, 2.5), loss_delta(conditions * heads, 0.01);
  h5::write_array(sweep, "loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {conditions, heads}, loss.data(), path);
  h5::write_array(sweep, "loss_delta", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {conditions, heads}, loss_delta.data(), path);
  std::vector<double> gain = {0.2, 0.02, -0.01}, se = {0.004, 0.003, 0.002}, r2 = {0.99, 0.7, 0.4}, intercept = {0.4, 0.4, 0.4};
  if (done < 3)
    for (auto* values : {&gain, &se, &r2, &intercept}) values->assign(heads, NAN);
  const std::vector<std::int64_t> fitted = {1, 1, 1};
  h5::write_array(sweep, "gain", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {heads}, gain.data(), path);
  h5::write_array(sweep, "gain_se", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {heads}, se.data(), path);
  h5::write_array(sweep, "gain_r_squared", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {heads}, r2.data(), path);
  h5::write_array(sweep, "gain_intercept", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {heads}, intercept.data(), path);
  h5::write_array(sweep, "gain_fitted", H5T_STD_I64LE, H5T_NATIVE_INT64, {heads}, fitted.data(), path);
  {
    h5::Id dataset = h5::open_dataset(sweep, "gain", path);
    h5::write_attribute(dataset, "notes", std::vector<std::string>{"", "", ""});
    h5::write_attribute(dataset, "trend_entropy", std::vector<std::string>{"decreasing", "decreasing", "increasing"});
    h5::write_attribute(dataset, "trend_max_attention", std::vector<std::string>{"increasing", "increasing", "decreasing"});
    h5::write_attribute(dataset, "trend_k90", std::vector<std::string>{"decreasing", "not monotonic", "increasing"});
  }
  const std::vector<double> ratio = {10, -20};
  const hsize_t ratios = done == 5 ? 2 : 0;  // the verdicts wait for every scale
  h5::write_array(sweep, "ratio", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {ratios}, ratio.data(), path, {"control"});
  {
    h5::Id dataset = h5::open_dataset(sweep, "ratio", path);
    h5::write_attribute(dataset, "verdicts", ratios ? std::vector<std::string>{"strong evidence", "undefined"} : std::vector<std::string>{});
    h5::write_attribute(dataset, "ratio_versus_mean_control", ratios ? 40.0 : NAN);
    h5::write_attribute(dataset, "verdict_versus_mean_control", std::string(ratios ? "strong evidence" : "undefined"));
  }
  h5::Id checks = h5::create_group(sweep, "checks", path);
  for (const char* name : {"baseline_sanity", "isolation"}) {
    h5::Id check = h5::create_group(checks, name, path);
    h5::write_attribute(check, "passed", std::int64_t{1});
    h5::write_attribute(check, "bitwise", std::int64_t{1});
    h5::write_attribute(check, "max_abs_difference", 0.0);
    h5::write_attribute(check, "tolerance", 1e-6);
    h5::write_attribute(check, "detail", std::string("identical"));
  }
  return path;
}

// An IB run with three splits over a 40-step β grid, four final clusters over labels add/sub/mul.
std::string write_small_ib(const std::filesystem::path& dir) {
  using namespace analysis::ib;
  AnnealResult result;
  result.info_xy = 0.9;
  result.split_gain_floor = 1e-6;
  for (int i = 0; i < 40; ++i) {
    CurvePoint p;
    p.beta = 0.5 * std::pow(1.15, i);
    const int k = p.beta < 1.2 ? 1 : p.beta < 3 ? 2 : p.beta < 10 ? 3 : 4;
    p.cluster_count = k;
    p.info_xt = 0.4 * (k - 1) + 0.01 * i;
    p.info_ty = 0.9 * (1 - std::exp(-0.6 * (k - 1) - 0.005 * i));
    result.curve.push_back(p);
  }
  const double split_beta[3] = {1.2, 3, 10};
  for (int s = 0; s < 3; ++s) {
    TransitionEvent e;
    e.beta = e.beta_critical = split_beta[s];
    e.cluster_count = s + 2;
    e.info_xt = 0.4 * (s + 1);
    e.info_ty = 0.9 * (1 - std::exp(-0.6 * (s + 1)));
    e.gain = 0.3 / (s + 1);
    e.parent = s;
    e.cluster = s + 1;
    result.history.push_back(e);
  }
  IbRunRecord record;
  record.command_line = "headscope ib --embeddings test.npy";
  record.input_source = "synthetic";
  record.settings_json = "{}";
  record.label_names = {"add", "sub", "mul"};
  record.labels = {0, 1, 2, 0, 1, 2, 0, 0};
  record.step_cell = {0, 1, 2, 3, 0, 1, 2, 3};
  record.step_assignment = {0, 1, 2, 3, 0, 1, 2, 3};
  record.result = &result;
  record.merges = {{0, 3, 0.05, 3, 0.6}, {0, 2, 0.18, 2, 0.42}, {0, 1, 0.42, 1, 0}};
  record.elbow = elbow_table(record.merges, 4, 0.65);
  for (int c = 0; c < 4; ++c) {
    ClusterSummary summary;
    summary.id = c;
    summary.parent = c - 1;
    summary.mass = 0.25;
    summary.size = 2 + c;
    summary.label_distribution = {c == 0 ? 0.8 : 0.1, c == 1 ? 0.8 : 0.1, c >= 2 ? 0.8 : 0.1};
    summary.label_counts = {1, 1, 1};
    summary.majority_label = std::min(c, 2);
    summary.examples = {c, c + 4};
    record.clusters.push_back(summary);
  }
  const std::string path = (dir / "ib.h5").string();
  write_ib_file(path, record);
  return path;
}

void check_png(const std::filesystem::path& path, int width, int height) {
  test::check_png(path, width, height, "run_kind");
}

}  // namespace

TEST(ResultFiles, ReadsASweepInTheDocumentedLayout) {
  const auto dir = test::temp_dir();
  const auto sweep = views::read_sweep_file(write_small_sweep(dir));
  EXPECT_EQ(sweep->target, "L1H2");
  EXPECT_EQ(sweep->model_name, "tiny-test");
  ASSERT_EQ(sweep->condition_count(), 5u);
  ASSERT_EQ(sweep->head_count(), 3u);
  EXPECT_EQ(sweep->head_names[2], "L3H1");
  EXPECT_EQ(sweep->roles[0], "target");
  EXPECT_EQ(sweep->condition_names[4], "scale 1.5");
  EXPECT_NEAR(sweep->at(sweep->mean[1], 4, 0), 0.4 + 0.2 * std::log(1.5), 1e-12);
  EXPECT_DOUBLE_EQ(sweep->at(sweep->count[1], 0, 1), 200);
  EXPECT_DOUBLE_EQ(sweep->gain_se[0], 0.004);
  EXPECT_EQ(sweep->trends[2][1], "not monotonic");
  EXPECT_EQ(sweep->verdicts[0], "strong evidence");
  EXPECT_DOUBLE_EQ(sweep->ratio_versus_mean_control, 40);
  EXPECT_TRUE(sweep->sanity.present && sweep->sanity.passed && sweep->isolation.bitwise);
  EXPECT_EQ(sweep->expected_directions.size(), 3u);
  EXPECT_TRUE(sweep->scaling());
}

// The file of a sweep still running (2 of 5 scales in): read as incomplete, pending scales NaN, the
// heading says how far it got and gives no verdict; with 4 in, provisional gains. Both views draw it.
TEST(ResultFiles, ReadsASweepThatIsStillRunning) {
  const auto dir = test::temp_dir();
  const auto complete = views::read_sweep_file(write_small_sweep(dir));
  EXPECT_TRUE(complete->complete);
  EXPECT_EQ(complete->conditions_done(), 5u) << "a file without condition_done is complete";
  const auto partial = views::read_sweep_file(write_small_sweep(dir, "", 2));
  EXPECT_FALSE(partial->complete);
  EXPECT_TRUE(partial->baseline_done);
  EXPECT_EQ(partial->condition_done, (std::vector<int>{1, 1, 0, 0, 0}));
  EXPECT_EQ(partial->conditions_done(), 2u);
  EXPECT_NEAR(partial->at(partial->mean[1], 1, 0), 0.4 + 0.2 * std::log(0.75), 1e-12);
  EXPECT_TRUE(std::isnan(partial->at(partial->mean[1], 2, 0)));
  EXPECT_TRUE(partial->ratio.empty());
  EXPECT_TRUE(std::isnan(partial->gain[0]));
  const auto heading = views::sweep_verdict_heading(*partial);
  ASSERT_EQ(heading.size(), 2u);
  EXPECT_NE(heading[0].text.find("baseline sanity: PASSED"), std::string::npos) << heading[0].text;
  EXPECT_NE(heading[1].text.find("incomplete: 2 of 5 scales measured"), std::string::npos) << heading[1].text;
  EXPECT_EQ(heading[1].text.find("NULL"), std::string::npos);
  const auto later = views::read_sweep_file(write_small_sweep(dir, "", 4));
  EXPECT_DOUBLE_EQ(later->gain[0], 0.2);

  test::HeadlessImGui imgui;
  for (const auto& sweep : {partial, later}) {
    views::ResultFile file;
    file.kind = "sweep";
    file.sweep = sweep;
    views::ResultViewStates states;
    for (const views::ResultView* view : views::result_views_for("sweep")) {
      SCOPED_TRACE(view->name + " with " + std::to_string(sweep->conditions_done()) + " scales");
      plot::RecordingTextureProvider textures;
      for (int frame = 0; frame < 2; ++frame) {
        ImGui::NewFrame();
        ImGui::SetNextWindowPos({0, 0});
        ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
        ImGui::Begin("partial", nullptr, ImGuiWindowFlags_NoDecoration);
        plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), &textures, imgui.fonts);
        view->draw(canvas, {{0, 0}, {1200, 560}}, file, states);
        ImGui::End();
        ImGui::Render();
      }
      EXPECT_GT(ImGui::GetDrawData()->TotalVtxCount, 1000);
    }
  }
}

TEST(ResultFiles, ReadsAnIbFileAndNamesTheFileWhenTheKindIsWrong) {
  const auto dir = test::temp_dir();
  const std::string ib_path = write_small_ib(dir), sweep_path = write_small_sweep(dir);
  const auto ib = views::read_ib_file(ib_path);
  EXPECT_DOUBLE_EQ(ib->info_xy, 0.9);
  EXPECT_EQ(ib->curve_beta.size(), 40u);
  EXPECT_EQ(ib->history.size(), 3u);
  EXPECT_EQ(ib->label_names, (std::vector<std::string>{"add", "sub", "mul"}));
  ASSERT_EQ(ib->clusters.size(), 4u);
  EXPECT_EQ(ib->clusters[3].size, 5);
  EXPECT_EQ(views::ib_top_labels(*ib, ib->clusters[0]), "add 80%, sub 10%, mul 10%");
  EXPECT_EQ(ib->elbow_threshold.size(), 4u);
  EXPECT_EQ(ib->merge_cost.size(), 3u);
  EXPECT_TRUE(views::is_result_file(ib_path));
  EXPECT_TRUE(views::is_result_file(sweep_path));
  EXPECT_FALSE(views::is_result_file(test::small_demo_store()));
  auto message = [](auto read, const std::string& path) {
    try {
      read(path);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string wrong = message(views::read_sweep_file, ib_path);
  EXPECT_NE(wrong.find(ib_path), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("not a sweep file (kind 'ib')"), std::string::npos) << wrong;
  EXPECT_NE(message(views::read_ib_file, test::small_demo_store()).find("not an ib file (kind 'capture')"), std::string::npos);
  const std::string text = (dir / "not.h5").string();
  std::ofstream(text) << "plain text";
  EXPECT_NE(message(views::read_ib_file, text).find("cannot open it as an HDF5 file"), std::string::npos);
}

TEST(ResultViews, RenderRealFramesWithoutADisplay) {
  test::HeadlessImGui imgui;
  const auto dir = test::temp_dir();
  const views::ResultFile files[2] = {views::open_result_file(write_small_sweep(dir, "the target's gain is within 2 SE of 0")),
                                      views::open_result_file(write_small_ib(dir))};
  views::ResultViewStates states;
  for (const auto& view : views::result_views()) {
    SCOPED_TRACE(view.name);
    const views::ResultFile& file = view.source == views::ViewSource::sweep_file ? files[0] : files[1];
    plot::RecordingTextureProvider textures;
    int vertices = 0;
    for (int frame = 0; frame < 3; ++frame) {
      ImGui::NewFrame();
      ImGui::SetNextWindowPos({0, 0});
      ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
      ImGui::Begin("view", nullptr, ImGuiWindowFlags_NoDecoration);
      if (view.name == "sweep") views::sweep_view_controls(states.sweep);
      plot::ImGuiCanvas canvas(ImGui::GetWindowDrawList(), &textures, imgui.fonts);
      const ImVec2 origin = ImGui::GetCursorScreenPos();
      view.draw(canvas, {{origin.x, origin.y}, {origin.x + 1200, origin.y + 560}}, file, states);
      ImGui::Dummy({1200, 560});
      if (view.name == "ib") views::ib_cluster_table(*file.ib, states.ib);
      ImGui::End();
      ImGui::Render();
      vertices = ImGui::GetDrawData()->TotalVtxCount;
    }
    // ib-cluster shows one cluster of this 8-step file (2 steps) and says it has no source store.
    EXPECT_GT(vertices, view.name == "ib-cluster" ? 1000 : 2000) << view.name << " drew too little";
  }
}

TEST(ResultViews, ExportToPdfSvgAndPng) {
  const auto dir = test::temp_dir();
  const views::ResultFile sweep = views::open_result_file(write_small_sweep(dir)), ib = views::open_result_file(write_small_ib(dir));
  views::ResultViewStates states;
  for (const auto& view : views::result_views()) {
    for (const std::string extension : {"pdf", "svg", "png"}) {
      SCOPED_TRACE(view.name + "." + extension);
      const auto path = dir / (view.name + "." + extension);
      views::export_result_view(view.source == views::ViewSource::sweep_file ? sweep : ib, states, view, path.string(), {900, 520, 1});
      const std::string bytes = read_all(path);
      if (extension == "pdf") {
        EXPECT_EQ(bytes.rfind("%PDF-", 0), 0u);
        EXPECT_NE(bytes.find("/Type /Page"), std::string::npos);
        EXPECT_NE(bytes.find("/Subject"), std::string::npos);
      } else if (extension == "svg") {
        EXPECT_NE(bytes.find("<svg"), std::string::npos);
        EXPECT_NE(bytes.find("</svg>"), std::string::npos);
        EXPECT_NE(bytes.find("<metadata id=\"headscope-provenance\">"), std::string::npos);
      } else {
        check_png(path, 900, 520);
      }
    }
  }
  EXPECT_THROW(views::export_result_view(ib, states, *views::find_result_view("sweep"), (dir / "x.png").string(), {}),
               std::runtime_error);
}

TEST(ResultViews, CommandLineExportsBothKindsAndListsTheViews) {
  const auto dir = test::temp_dir();
  const std::string exe = test::headscope_exe().string();
  const std::string help_file = (dir / "help.txt").string();
  ASSERT_EQ(std::system((exe + " export --help > " + help_file).c_str()), 0);
  const std::string help = read_all(help_file);
  for (const char* name : {"sweep", "sweep-gains", "ib"}) EXPECT_NE(help.find(std::string("  ") + name + " "), std::string::npos) << name;
  const std::string sweep = write_small_sweep(dir), ib = write_small_ib(dir);
  const std::pair<std::string, std::string> runs[] = {{sweep, "sweep"}, {sweep, "sweep-gains"}, {ib, "ib"}};
  for (const auto& [file, view] : runs)
    for (const std::string extension : {"pdf", "svg", "png"}) {
      const auto out = dir / (view + "-cli." + extension);
      const std::string command = exe + " export --run " + file + " --view " + view + " --out " + out.string() +
                                  " --width 700 --height 420 > /dev/null";
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
      EXPECT_GT(std::filesystem::file_size(out), 500u);
    }
  check_png(dir / "ib-cli.png", 700, 420);
  // A view of the wrong kind, or a result view on a capture store, is refused.
  EXPECT_NE(std::system((exe + " export --run " + ib + " --view sweep --out " + (dir / "x.png").string() + " 2> /dev/null").c_str()), 0);
  EXPECT_NE(std::system((exe + " export --run " + test::small_demo_store() + " --view ib --out " + (dir / "y.png").string() +
                         " 2> /dev/null").c_str()),
            0);
}
