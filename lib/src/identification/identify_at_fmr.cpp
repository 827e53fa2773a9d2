// SPDX-License-Identifier: Apache-2.0
// The decision threshold of identify_at_fmr() comes from the built-in calibration (models/).
#include "palmvein/calibration.hpp"
#include "palmvein/identification.hpp"

namespace palmvein {
inline namespace v1 {

std::optional<Candidate> IdentificationIndex::identify_at_fmr(const Template& probe, double fmr) const {
  return identify(probe, Calibration::builtin().threshold_for_fmr(fmr));
}

}  // namespace v1
}  // namespace palmvein
