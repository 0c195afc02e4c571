// Comma-separated lists as the command line and the workbench's input fields take them: heads ("2:1,L3H0")
// and scales ("0.5,0.75,1"). Empty items are skipped; a bad item throws std::invalid_argument naming it.
#pragma once
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope {

std::vector<store::HeadRef> parse_head_list(const std::string& text);  // "'x' is not a head (write L:H or L3H5)"
std::vector<double> parse_number_list(const std::string& text);         // "'x' is not a number"
std::string format_head_list(const std::vector<store::HeadRef>& heads); // "2:1,2:3", what parse_head_list reads

}  // namespace headscope
