// The drill-down's sweep launcher (see sweep_launch.h): where the run's model and samples came from,
// suggested controls, the checked plan, the child's command (core/commands/sweep_command.h), and the
// popup of fields.
#include "views/sweep_launch.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/analysis/aggregate.h"
#include "core/util/lists.h"

namespace headscope::views {

namespace fs = std::filesystem;

namespace {

// A path the run recorded, as it is found from here: as given, or beside the store; else unchanged.
std::string locate(const std::string& recorded, const std::string& store_path) {
  if (recorded.empty()) return recorded;
  const fs::path path(recorded);
  std::error_code ec;
  if (path.is_absolute() || fs::exists(path, ec)) return fs::absolute(path, ec).lexically_normal().string();
  const fs::path beside = fs::path(store_path).parent_path() / path;
  return fs::exists(beside, ec) ? beside.lexically_normal().string() : recorded;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  return first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(" \t") + 1 - first);
}

bool inside(const RunInfo& info, store::HeadRef head) {
  return head.layer >= 0 && head.layer < info.layout.layer_count && head.head >= 0 && head.head < info.layout.head_count;
}

// ImGui text input on a std::string (grows as the user types).
bool input_string(const char* label, std::string& text) {
  return ImGui::InputText(label, text.data(), text.capacity() + 1, ImGuiInputTextFlags_CallbackResize,
                          [](ImGuiInputTextCallbackData* data) {
                            auto* string = static_cast<std::string*>(data->UserData);
                            string->resize(static_cast<std::size_t>(data->BufTextLen));
                            data->Buf = string->data();
                            return 0;
                          },
                          &text);
}

}  // namespace

RunSources run_sources(const RunInfo& info) {
  RunSources sources;
  sources.model_dir = info.provenance.model_path;
  const store::RunSettings& settings = info.provenance.settings;  // decoded by the reader
  sources.inputs_path = locate(settings.prompts.empty() ? settings.shards : settings.prompts, info.path);
  sources.mode = settings.mode;
  sources.add_bos = settings.add_bos;
  return sources;
}

std::vector<store::HeadRef> suggest_sweep_controls(const RunInfo& info, const std::vector<float>& max_attention,
                                                   store::HeadRef target, int count) {
  const int layers = info.layout.layer_count, heads = info.layout.head_count;
  if (layers <= 0 || heads <= 0 || max_attention.size() < static_cast<std::size_t>(layers * heads)) return {};
  const int samples = static_cast<int>(max_attention.size() / static_cast<std::size_t>(layers * heads));
  std::vector<float> mean(static_cast<std::size_t>(layers * heads)), spread(mean.size());
  std::vector<int> counted(mean.size());
  analysis::head_grid_stats(max_attention.data(), samples, layers, heads, mean.data(), spread.data(), counted.data());
  // Matched on sharpness: query scaling acts as a temperature, so a control much sharper or more diffuse
  // than the target confounds the gain ratio (issue 19); the sweep itself can also draw random controls.
  const float target_sharpness = mean[static_cast<std::size_t>(target.layer * heads + target.head)];
  struct Candidate {
    int distance;  // layers away from the target's
    float mismatch;  // |mean max attention - the target's|
    store::HeadRef head;
  };
  std::vector<Candidate> candidates;
  for (int layer = 0; layer < layers; ++layer)
    for (int head = 0; head < heads; ++head) {
      const float value = mean[static_cast<std::size_t>(layer * heads + head)];
      if (store::HeadRef{layer, head} == target || !std::isfinite(value)) continue;
      candidates.push_back({std::abs(layer - target.layer), std::isfinite(target_sharpness) ? std::abs(value - target_sharpness) : value,
                            {layer, head}});
    }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.mismatch < b.mismatch;
  });
  std::vector<store::HeadRef> controls;
  for (const auto& candidate : candidates)
    if (static_cast<int>(controls.size()) < count) controls.push_back(candidate.head);
  return controls;
}

SweepPlan plan_sweep(const RunInfo& info, store::HeadRef target, const SweepLaunchState& state) {
  SweepPlan plan;
  plan.target = target;
  plan.max_samples = state.max_samples;
  const RunSources sources = run_sources(info);
  plan.add_bos = sources.add_bos;
  std::error_code ec;

  plan.model_dir = trimmed(state.model);
  if (plan.model_dir.empty())
    plan.problems.push_back(sources.model_dir.empty()
                                ? "this run records no model path (an imported run?): a sweep needs the model; enter its folder"
                                : "enter the model folder");
  else if (!fs::exists(fs::path(plan.model_dir) / "config.json", ec))
    plan.problems.push_back("no config.json in '" + plan.model_dir + "': not a model folder (moved since the capture?)");

  const std::string inputs = trimmed(state.inputs);
  if (inputs.empty())
    plan.problems.push_back("this run records no prompt set or token shard; enter one (.jsonl or .npz)");
  else if (!fs::exists(inputs, ec))
    plan.problems.push_back("the prompts '" + inputs + "' are not found from here; enter their path");
  else if (fs::path(inputs).extension() == ".npz")
    plan.shards_path = fs::absolute(inputs, ec).string();
  else
    plan.prompts_path = fs::absolute(inputs, ec).string();

  if (!inside(info, target))
    plan.problems.push_back("the target " + store::head_name(target) + " is outside the run's " +
                            std::to_string(info.layout.layer_count) + " x " + std::to_string(info.layout.head_count) + " heads");
  try {
    plan.controls = parse_head_list(state.controls);
    for (std::size_t i = 0; i < plan.controls.size(); ++i) {
      const auto& head = plan.controls[i];
      if (!inside(info, head)) plan.problems.push_back("control " + store::head_name(head) + " is outside the run's heads");
      else if (head == target || std::find(plan.controls.begin(), plan.controls.begin() + static_cast<std::ptrdiff_t>(i), head) !=
                                     plan.controls.begin() + static_cast<std::ptrdiff_t>(i))
        plan.problems.push_back("control " + store::head_name(head) + " is the target or listed twice");
    }
  } catch (const std::invalid_argument& e) {
    plan.problems.push_back(std::string("controls: ") + e.what());
  }
  try {
    plan.scales = parse_number_list(state.scales);
    if (plan.scales.size() < 2 || std::any_of(plan.scales.begin(), plan.scales.end(), [](double s) { return !(s > 0) || !std::isfinite(s); }))
      plan.problems.push_back("scales: give at least two, each a number > 0");
  } catch (const std::invalid_argument& e) {
    plan.problems.push_back(std::string("scales: ") + e.what());
  }
  if (plan.max_samples < 1) plan.problems.push_back("max samples must be at least 1");

  if (plan.controls.empty())
    plan.notes.push_back("no controls given: the sweep draws 3 at random from layer " + std::to_string(target.layer) + " (seed 0)");
  if (!sources.mode.empty() && sources.mode != "teacher_forced")
    plan.notes.push_back("the run was captured in " + sources.mode + " mode; the sweep teacher-forces the prompts alone");
  return plan;
}

commands::SweepCommand sweep_command(const SweepPlan& plan) {
  commands::SweepCommand command;
  command.model_dir = plan.model_dir;
  command.prompts_path = plan.prompts_path;
  command.shards_path = plan.shards_path;
  command.target = plan.target;
  command.controls = plan.controls;
  command.scales = plan.scales;
  command.max_samples = plan.max_samples;
  command.threads = plan.threads;
  command.add_bos = plan.add_bos;
  return command;
}

bool prepare_sweep_launch(ViewContext& context, SweepLaunchState& state) {
  const RunInfo& info = context.run->info();
  const store::HeadRef target = context.selection->head;
  if (state.prepared_run != info.path) {
    const RunSources sources = run_sources(info);
    state.model = sources.model_dir;
    state.inputs = sources.inputs_path;
    state.prepared_run = info.path;
    state.suggested = false;
  }
  if (!(state.prepared_head == target)) {
    state.prepared_head = target;
    state.suggested = false;
    state.status.clear();
  }
  if (state.suggested) return true;
  const bool has_metric = std::any_of(info.layout.metrics.begin(), info.layout.metrics.end(),
                                      [](const store::MetricSpec& spec) { return spec.name == "max_attention"; });
  if (!has_metric || info.sample_count == 0) {
    state.controls.clear();
    return false;
  }
  const SharedFloats summary = context.run->summary("max_attention");
  if (!summary) return false;  // asked for; a later frame has it
  state.controls = format_head_list(suggest_sweep_controls(info, summary->values, target));
  state.suggested = true;
  return true;
}

bool sweep_launch_controls(ViewContext& context, SweepLaunchState& state, const std::string& why_not, SweepPlan* plan) {
  prepare_sweep_launch(context, state);
  const RunInfo& info = context.run->info();
  const store::HeadRef target = context.selection->head;
  if (ImGui::SmallButton("Sweep this head...")) ImGui::OpenPopup("##sweep-launch");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Scale %s's pre-RoPE query over scales against control heads, in a child process;\n"
                      "the sweep's window opens at once and fills in as each scale is done",
                      store::head_name(target).c_str());
  bool started = false;
  if (ImGui::BeginPopup("##sweep-launch")) {
    ImGui::Text("Sweep %s: scale its pre-RoPE query", store::head_name(target).c_str());
    ImGui::Separator();
    if (!why_not.empty()) {
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
      ImGui::TextUnformatted(why_not.c_str());
      ImGui::PopTextWrapPos();
    } else {
      const float width = ImGui::GetFontSize() * 26;
      const auto field = [&](const char* label, std::string& text, const char* help) {
        ImGui::SetNextItemWidth(width);
        input_string(label, text);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
      };
      field("controls", state.controls,
            "control heads, L:H,L:H (suggested: the two other heads of the layer closest to the target\n"
            "in mean max attention over the run's samples; empty: the sweep draws 3 at random from the layer)");
      field("scales", state.scales, "query scales, comma-separated");
      ImGui::SetNextItemWidth(width);
      ImGui::InputInt("max samples", &state.max_samples);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("the first N prompts: a few finish in seconds on the sample model");
      field("model", state.model, "model folder (the run records the one it was captured with)");
      field("prompts", state.inputs, "prompt set (.jsonl) or token shard (.npz); the run records the one it read");
      const SweepPlan checked = plan_sweep(info, target, state);
      ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width * 1.3f);
      for (const auto& problem : checked.problems) ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "%s", problem.c_str());
      for (const auto& note : checked.notes) ImGui::TextDisabled("%s", note.c_str());
      ImGui::PopTextWrapPos();
      ImGui::BeginDisabled(!checked.ready());
      if (ImGui::Button("Start sweep")) {
        *plan = checked;
        started = true;
        ImGui::CloseCurrentPopup();
      }
      ImGui::EndDisabled();
    }
    ImGui::EndPopup();
  }
  if (!state.status.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("%s", state.status.c_str());
  }
  return started;
}

}  // namespace headscope::views
