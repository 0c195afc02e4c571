// The facts HeadScope reads back from a store's JSON — a sample's metadata (level, prompt text, recorded
// step spans) and the run's settings (mode, sources, flow selection, import details) — decoded once, by
// StoreReader, into plain structs, so no view or analysis parses that JSON again. Missing or malformed
// fields decode to their defaults; the verbatim JSON stays in SampleInfo / Provenance for display.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace headscope::store {

// What a sample's metadata JSON records that HeadScope uses.
struct SampleFacts {
  std::optional<int> level;       // "level" (difficulty: steps of the problem); nullopt when not recorded
  std::string text;               // the prompt's text: "text", else "question"; "" when not recorded
  std::vector<int> step_starts;   // token positions where the recorded steps start (capture.span_tokens[i][0])
  // token positions where the steps detected in the generated text start (capture.generated_spans[i][0])
  std::vector<int> generated_step_starts;
  // The step starts boundaries are scored against: the generated steps' when the capture found them (the
  // run's own steps), else the prompt's recorded ones.
  const std::vector<int>& boundary_step_starts() const {
    return generated_step_starts.empty() ? step_starts : generated_step_starts;
  }
};

// What a run's settings JSON records that HeadScope uses (capture_session.cpp and import_support.cpp
// write them).
struct RunSettings {
  std::string mode;                // "teacher_forced", "generate", "latent"; "" when not recorded
  std::string prompts, shards;     // the capture's inputs as given ("" when not that kind)
  std::string flow_select;         // "last_k", "explicit_positions", "marker_token", "latent_steps" or ""
  bool add_bos = true;
  // Which attention the metrics measure ("model", "pre-rope"; "" when not recorded: a store from before
  // the setting, which measured the model's), why the mode changed nothing ("" unless so), and how many
  // first query positions have NaN entropy.
  std::string attention, attention_note;
  int entropy_nan_first = 0;
  // Imports: which importer, the source format, the files read, what the sources did not have.
  std::string importer, format;
  std::vector<std::string> sources, missing;
};

SampleFacts decode_sample_facts(const std::string& metadata_json);

// A level written as text, as MATH writes it: "Level 3", "level 3" or "3" (spaces around allowed) -> 3;
// anything else ("Level ?", "hard") -> nullopt. Prompt sets, imports and stores read levels through it.
std::optional<int> parse_level_text(const std::string& text);
RunSettings decode_run_settings(const std::string& settings_json);

}  // namespace headscope::store
