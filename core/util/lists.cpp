// Comma-separated head and number lists (see lists.h).
#include "core/util/lists.h"

#include <sstream>
#include <stdexcept>

namespace headscope {

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    items.push_back(item.substr(first, item.find_last_not_of(" \t") + 1 - first));
  }
  return items;
}

}  // namespace

std::vector<store::HeadRef> parse_head_list(const std::string& text) {
  std::vector<store::HeadRef> heads;
  for (const auto& item : split(text)) {
    const auto head = store::parse_head_name(item);
    if (!head) throw std::invalid_argument("'" + item + "' is not a head (write L:H or L3H5)");
    heads.push_back(*head);
  }
  return heads;
}

std::vector<double> parse_number_list(const std::string& text) {
  std::vector<double> numbers;
  for (const auto& item : split(text)) {
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size()) throw std::invalid_argument("'" + item + "' is not a number");
    numbers.push_back(value);
  }
  return numbers;
}

std::string format_head_list(const std::vector<store::HeadRef>& heads) {
  std::string text;
  for (const auto& head : heads) text += (text.empty() ? "" : ",") + std::to_string(head.layer) + ":" + std::to_string(head.head);
  return text;
}

}  // namespace headscope
