// SPDX-License-Identifier: Apache-2.0
// identify_at_fmr(): the threshold of the built-in calibration, read the one way (DecisionThreshold).
#include "palmvein/calibration.hpp"
#include "palmvein/identification.hpp"

namespace palmvein {
inline namespace v1 {

std::optional<Candidate> IdentificationIndex::identify_at_fmr(const Template& probe, double fmr) const {
  return identify(probe, DecisionThreshold::at_fmr(fmr).score);
}

}  // namespace v1
}  // namespace palmvein
