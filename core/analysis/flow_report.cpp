// Tables of the flow analysis (see flow_report.h).
#include "core/analysis/flow_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/store/layout.h"

namespace headscope::analysis {

std::string format_flow_ranking(const FlowRunScores& scores, const std::vector<RankedHead>& ranking, int top) {
  std::ostringstream out;
  char line[256];
  out << "top heads by flow composite (" << scores.k << "x" << scores.k << ", averaged over samples)\n"
      << "  rank  head     composite   flow    hub  hub_pos   skip  sequential  type\n";
  for (int r = 0; r < std::min<int>(top, static_cast<int>(ranking.size())); ++r) {
    const auto& h = ranking[static_cast<std::size_t>(r)];
    const auto& s = scores.at(h.layer, h.head);
    std::snprintf(line, sizeof line, "  %4d  %-7s  %9.3f  %5.3f  %5.3f  %7d  %5.3f  %10.3f  %s\n", h.rank,
                  store::head_name({h.layer, h.head}).c_str(), s.composite, s.flow, s.hub_score, s.hub_position, s.skip,
                  s.sequential, functional_type_name(FunctionalType(s.functional_type)));
    out << line;
  }
  return out.str();
}

std::string format_phase_criteria(const std::vector<PhaseCriterion>& criteria, const TopBottomCounts& counts) {
  std::ostringstream out;
  char line[320];
  int phase = -1;
  for (const auto& c : criteria) {
    if (c.phase != phase) {
      phase = c.phase;
      out << "phase " << phase << " criteria (the CODI seed's):\n";
    }
    std::snprintf(line, sizeof line, "  [%s] %s: %.3f (threshold %.3f)\n", c.passed ? "pass" : "fail", c.name.c_str(), c.value,
                  c.threshold);
    out << line;
  }
  out << "  top/bottom groups: " << counts.describe() << "\n";
  return out.str();
}

std::string format_type_counts(const std::vector<int>& counts) {
  std::string text;
  for (int t = 0; t < static_cast<int>(counts.size()); ++t)
    if (counts[static_cast<std::size_t>(t)] > 0)
      text += (text.empty() ? "" : ", ") + std::string(functional_type_name(FunctionalType(t))) + " " +
              std::to_string(counts[static_cast<std::size_t>(t)]);
  return text.empty() ? "none" : text;
}

}  // namespace headscope::analysis
