// SPDX-License-Identifier: Apache-2.0
// The one rule that turns a target false-accept rate into a threshold, shared by FNMR@FMR
// (verification) and FNIR@FPIR (open-set identification).
#pragma once

#include <vector>

#include "palmvein/export.hpp"

namespace palmvein::internal {

// The lowest threshold t (accept when score >= t) at which at most target * n of the n `sorted`
// (ascending, non-empty) false-accept scores are accepted: just above the (k+1)-th highest score,
// k = int(target * n) (tools/evalscores.py's rule).
double threshold_for_rate(const std::vector<double>& sorted, double target);

}  // namespace palmvein::internal
