// Names and specs shared by the store's writer, reader and the tools: run kinds, head names and the
// standard per-token metrics (definitions in ../shared/METRICS.md and docs/store-format.md).
#include "core/store/layout.h"

#include <cstdio>
#include <regex>

namespace headscope::store {

const char* run_kind_name(RunKind kind) {
  switch (kind) {
    case RunKind::capture: return "capture";
    case RunKind::sweep: return "sweep";
    case RunKind::ib: return "ib";
    case RunKind::import: return "import";
  }
  return "capture";
}

RunKind parse_run_kind(const std::string& name) {
  for (RunKind kind : {RunKind::capture, RunKind::sweep, RunKind::ib, RunKind::import})
    if (name == run_kind_name(kind)) return kind;
  throw StoreError("unknown run kind '" + name + "' (expected capture, sweep, ib or import)");
}

std::string head_name(HeadRef head) {
  return "L" + std::to_string(head.layer) + "H" + std::to_string(head.head);
}

std::optional<HeadRef> parse_head_name(const std::string& text) {
  static const std::regex named(R"(^\s*[Ll](\d+)[Hh](\d+)\s*$)");
  static const std::regex pair(R"(^\s*(\d+)\s*[:,.]\s*(\d+)\s*$)");
  std::smatch match;
  if (std::regex_match(text, match, named) || std::regex_match(text, match, pair)) {
    try {
      return HeadRef{std::stoi(match[1].str()), std::stoi(match[2].str())};
    } catch (const std::out_of_range&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::vector<MetricSpec> standard_metrics() {
  return {
      {"query_norm", "1", "L2 norm of the head's pre-RoPE query vector"},
      {"entropy", "nats", "entropy of the attention row over unmasked keys, renormalised"},
      {"max_attention", "1", "largest attention probability of the row over unmasked keys"},
      {"k90", "keys", "fewest keys holding 90% of the row's attention mass"},
      {"iaf", "1", "input-attention fraction: mass on prompt tokens over all mass; NaN for prompt positions"},
      {"jsd", "nats", "Jensen-Shannon divergence between this and the previous query's attention rows"},
      {"windowed_jsd", "nats", "JSD between the mean rows of the w queries before and the w from this one"},
      {"connectivity", "keys", "number of keys with renormalised attention >= theta"},
      {"received_attention", "1", "attention mass this token receives as a key from later queries"},
  };
}

MetricSpec standard_metric(const std::string& name) {
  for (const auto& spec : standard_metrics())
    if (spec.name == name) return spec;
  throw StoreError("unknown metric '" + name + "'");
}

}  // namespace headscope::store
