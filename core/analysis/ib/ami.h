// Agreement between two labelings of the same items: mutual information, and the adjusted mutual
// information (Vinh, Epps & Bailey 2010) that subtracts the MI expected by chance under the
// hypergeometric model of random labelings with the same cluster sizes. Arithmetic-mean normalisation.
#pragma once
#include <vector>

namespace headscope::analysis::ib {

double labeling_mutual_information(const std::vector<int>& a, const std::vector<int>& b);  // nats
double expected_mutual_information(const std::vector<int>& a, const std::vector<int>& b);  // nats
// 1 for identical partitions, ~0 for independent ones; 1 when both have a single cluster.
double adjusted_mutual_information(const std::vector<int>& a, const std::vector<int>& b);

}  // namespace headscope::analysis::ib
