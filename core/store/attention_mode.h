// Which attention a capture measures (`headscope capture --attention`): the model's real attention, or
// Spectra's "pre-RoPE, manually recomputed" softmax(q_pre k_preᵀ/√d + mask) (METRICS.md, "Seed conventions
// to reproduce"). The forward pass is the real model's either way; only the measured probabilities differ.
// The names are declared here once, beside the store that records them: the CLI, the session's settings,
// inspect, the views and the workbench read them.
#pragma once
#include <optional>
#include <string>

namespace headscope::store {

enum class AttentionMode { model, pre_rope };

struct AttentionModeName {
  AttentionMode mode;
  const char* name;         // as --attention takes it and /run/settings_json records it
  const char* description;  // for help texts, inspect and the views
};
inline constexpr AttentionModeName kAttentionModes[] = {
    {AttentionMode::model, "model", "the model's attention (after RoPE)"},
    {AttentionMode::pre_rope, "pre-rope", "pre-RoPE softmax(q k^T/sqrt d + mask), recomputed in float32"},
};

inline const char* attention_mode_name(AttentionMode mode) {
  for (const auto& entry : kAttentionModes)
    if (entry.mode == mode) return entry.name;
  return "model";
}

inline std::optional<AttentionMode> parse_attention_mode(const std::string& name) {
  for (const auto& entry : kAttentionModes)
    if (name == entry.name) return entry.mode;
  return std::nullopt;
}

// "model, pre-rope": the accepted names, for error messages.
inline std::string attention_mode_names() {
  std::string names;
  for (const auto& entry : kAttentionModes) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  return names;
}

}  // namespace headscope::store
