// SweepControl (see sweep_control.h): the child's command line, and the watch of its result file — a
// stat a few times a second, a re-read when the file was replaced — with the progress header.
#include "app/gui/sweep_control.h"

#include <imgui.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace headscope::app {

std::string SweepControl::start(const views::SweepPlan& plan) {
  if (!plan.ready()) throw std::runtime_error(plan.problems.front());
  SweepChild child;
  child.plan = plan;
  const std::string stem = new_output_stem("sweep-" + store::head_name(plan.target),
                                           std::filesystem::path(plan.model_dir).filename().string());
  child.out_path = stem + ".h5";
  commands::SweepCommand command = views::sweep_command(plan);
  command.out_path = child.out_path;
  std::vector<std::string> args{self_executable()};
  for (auto& arg : commands::to_arguments(command)) args.push_back(std::move(arg));
  child.process.start(args, stem + ".log");
  const std::string path = child.out_path;
  children_.add(path, std::move(child));
  return path;
}

bool SweepControl::shows_scales_or_ended(std::size_t scales) const {
  for (const auto& entry : children_) {
    const SweepChild& child = entry.second;
    if (child.seen_after_exit || (!child.complete && child.conditions_done >= scales))
      return true;
  }
  return false;
}

namespace {

class SweepWatch : public ResultWatch {
 public:
  SweepWatch(SweepControl& sweeps, std::string path) : sweeps_(sweeps), path_(std::move(path)) {}

  bool refresh(views::ResultFile& file) override {
    sweeps_.poll();
    SweepChild* child = sweeps_.find(path_);
    const bool last_look = child && !child->process.running() && !child->seen_after_exit;  // its last write is on disk
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check_ && !last_look) return false;
    next_check_ = now + std::chrono::milliseconds(200);
    const bool changed = read_if_changed(file, child);
    if (last_look) child->seen_after_exit = true;
    return changed;
  }

  void draw_header(const views::ResultFile& file) override {
    const SweepChild* child = sweeps_.find(path_);
    if (!child) return;
    const auto& sweep = file.sweep;
    const std::size_t total = sweep ? sweep->condition_count() : child->plan.scales.size();
    const std::size_t done = sweep ? sweep->conditions_done() : 0;
    const bool baseline = sweep && sweep->baseline_done;
    ImGui::Text("sweep of %s vs %s, %lld sample(s) at most, model %s", store::head_name(child->plan.target).c_str(),
                child->plan.controls.empty() ? "no controls" : format_heads(child->plan.controls).c_str(),
                static_cast<long long>(child->plan.max_samples), std::filesystem::path(child->plan.model_dir).filename().c_str());
    const ChildProcess& process = child->process;
    if (process.running()) {
      char label[128];
      std::snprintf(label, sizeof label, "baseline + checks %s, scales %zu / %zu", baseline ? "done" : "running", done, total);
      ImGui::ProgressBar(static_cast<float>((baseline ? 1 : 0) + done) / static_cast<float>(1 + total), ImVec2(-70, 0), label);
      ImGui::SameLine();
      if (ImGui::SmallButton("Stop")) sweeps_.stop(path_);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Stop the sweep; its file keeps every scale already finished");
      const std::string& tail = process.log_tail();
      ImGui::TextDisabled("%s", sweep ? tail.c_str() : ("starting (loading the model) … " + tail).c_str());
    } else if (process.exit_code() == 0) {
      ImGui::TextColored(ImVec4(0.0f, 0.45f, 0.2f, 1), "done: the baseline, both checks and %zu of %zu scales", done, total);
    } else if (process.stop_requested()) {
      ImGui::TextColored(ImVec4(0.55f, 0.35f, 0.0f, 1), "stopped after %zu of %zu scales; the file keeps them (%s)", done, total,
                         path_.c_str());
    } else {
      ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "the sweep failed after %zu of %zu scales:", done, total);
      ImGui::TextWrapped("%s", process.failure().c_str());
      ImGui::TextDisabled("log: %s", process.log_path().c_str());
    }
    if (!read_error_.empty()) ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "cannot read the file: %s", read_error_.c_str());
    ImGui::Separator();
  }

 private:
  // A stat; a re-read when the file was replaced (the child renames a new version over it).
  bool read_if_changed(views::ResultFile& file, SweepChild* child) {
    struct stat info {};
    if (::stat(path_.c_str(), &info) != 0) return false;  // not written yet: the model is loading
    const Version version{info.st_ino, info.st_size, info.st_mtim.tv_sec, info.st_mtim.tv_nsec};
    if (version == seen_) return false;
    seen_ = version;
    try {
      file = views::open_result_file(path_);
      read_error_.clear();
    } catch (const std::exception& e) {
      read_error_ = e.what();  // keep the last good version; try again on the next change
      return false;
    }
    if (child && file.sweep) {
      child->file_seen = true;
      child->baseline_done = file.sweep->baseline_done;
      child->complete = file.sweep->complete;
      child->conditions_done = file.sweep->conditions_done();
    }
    return true;
  }

  struct Version {
    ino_t inode = 0;
    off_t size = 0;
    long seconds = 0, nanoseconds = 0;
    bool operator==(const Version& o) const {
      return inode == o.inode && size == o.size && seconds == o.seconds && nanoseconds == o.nanoseconds;
    }
  };
  static std::string format_heads(const std::vector<store::HeadRef>& heads) {
    std::string text;
    for (const auto& head : heads) text += (text.empty() ? "" : ", ") + store::head_name(head);
    return text;
  }

  SweepControl& sweeps_;
  std::string path_;
  Version seen_;
  std::string read_error_;
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace

std::unique_ptr<ResultWatch> SweepControl::watch(const std::string& out_path) {
  return std::make_unique<SweepWatch>(*this, out_path);
}

}  // namespace headscope::app
