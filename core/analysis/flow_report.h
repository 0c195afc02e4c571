// The printed tables of the K×K flow analysis (`headscope analyze`): the head ranking with every score and
// the functional type, and the phase criteria grouped by the seed's phases with the top/bottom groups
// used. Numbers from flow_scores.h; definitions in docs/workbench.md, "Flow analysis".
#pragma once
#include <string>
#include <vector>

#include "core/analysis/flow_scores.h"

namespace headscope::analysis {

// `ranking`: the heads in the order to print, at most `top` rows.
std::string format_flow_ranking(const FlowRunScores& scores, const std::vector<RankedHead>& ranking, int top);
// Phase by phase, "[pass]"/"[fail]", then the rule that chose the top/bottom groups.
std::string format_phase_criteria(const std::vector<PhaseCriterion>& criteria, const TopBottomCounts& counts);
// "flow 3, hub 1" over the types present in `counts` [kFunctionalTypeCount]; "none" when all are 0.
std::string format_type_counts(const std::vector<int>& counts);

}  // namespace headscope::analysis
