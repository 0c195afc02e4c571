// A run whose metrics measure the pre-RoPE attention (`capture --attention pre-rope`, recorded in its
// settings) says so in the titles of the views of its attention — head grid, token heatmap, drill-down,
// attention matrix — and a run of the model's attention (or one from before the setting) does not.
#include <gtest/gtest.h>

#include "core/store/writer.h"
#include "view_test_support.h"
#include "views/view_registry.h"

using namespace headscope;

namespace {

std::string run_with_settings(const std::string& name, const std::string& settings_json) {
  const auto path = (test::temp_dir() / name).string();
  store::StoreLayout layout;
  layout.layer_count = 1;
  layout.head_count = 2;
  layout.metrics = store::standard_metrics();
  layout.metric_type = store::ValueType::float32;
  store::Provenance provenance;
  provenance.settings_json = settings_json;
  auto writer = store::StoreWriter::create(path, layout, provenance);
  store::SampleRecord sample;
  sample.id = "s0";
  sample.tokens = {1, 2, 3};
  sample.prompt_length = 3;
  sample.metrics.assign(layout.metrics.size(), std::vector<float>(6, 0.5f));
  writer->append(sample);
  return path;
}

}  // namespace

TEST(MeasuredAttentionTitles, APreRopeRunSaysSoInItsAttentionViews) {
  views::DirectRunData pre_rope(run_with_settings("titles-pre-rope.h5", R"({"attention": "pre-rope"})"));
  views::DirectRunData model(run_with_settings("titles-model.h5", R"({"attention": "model"})"));
  views::DirectRunData older(run_with_settings("titles-older.h5", R"({"mode": "teacher_forced"})"));
  views::Selection selection{{0, 1}, 0};
  views::ViewStates states;
  for (const char* name : {"head-grid", "token-heatmap", "head", "attention-matrix"}) {
    const views::FigureView* view = views::find_figure_view(name);
    ASSERT_NE(view, nullptr) << name;
    views::ViewContext pre_rope_context{&pre_rope, &selection, nullptr};
    views::ViewContext model_context{&model, &selection, nullptr};
    views::ViewContext older_context{&older, &selection, nullptr};
    EXPECT_NE(view->title(pre_rope_context, states).find("pre-RoPE attention"), std::string::npos) << name;
    EXPECT_EQ(view->title(model_context, states).find("pre-RoPE"), std::string::npos) << name;
    EXPECT_EQ(view->title(older_context, states).find("pre-RoPE"), std::string::npos) << name;
  }
}
