// SPDX-License-Identifier: Apache-2.0
// 1:1 comparison. Scores are similarities in [0, 1]: higher means more alike, 0 is the lowest
// score the matcher gives (used for failures to acquire). See calibration.hpp to turn a target
// false-match rate into a threshold.
// Thread-safety: Matcher is immutable after construction; score() may run concurrently.
#pragma once

#include <memory>

#include "palmvein/export.hpp"
#include "palmvein/template.hpp"

PALMVEIN_NAMESPACE_BEGIN

// The lowest score the matcher can give (also what callers score a failure to acquire with).
inline constexpr double kLowestScore = 0.0;

// Similarity of probe `a` and candidate `b` in [0, 1] (1 for a template with itself), with a search
// over residual translation and rotation; equal to Matcher(a).score(b). Nearly symmetric: the
// translation search is exactly so, but the pose search tries a's variants only, so match(b, a)
// may differ a little. Throws InvalidArgument if the templates come from different algorithms,
// parameters or code geometry.
PALMVEIN_API double match(const Template& a, const Template& b);

// A matcher prepared around one probe (pre-shifted codes) to score many candidates fast.
class PALMVEIN_API Matcher {
 public:
  // Prepares `probe` (the matcher keeps what it needs; the template may be destroyed afterwards).
  // Throws InvalidArgument for codes the matcher cannot handle.
  explicit Matcher(const Template& probe);
  ~Matcher();
  // Moves the prepared probe; the moved-from matcher may only be destroyed or assigned to.
  Matcher(Matcher&&) noexcept;
  // Moves the prepared probe; the moved-from matcher may only be destroyed or assigned to.
  Matcher& operator=(Matcher&&) noexcept;
  // match(probe, candidate), exactly, faster than match() when one probe meets many candidates.
  // Throws InvalidArgument unless `candidate` comes from the probe's algorithm, parameters and
  // code geometry.
  double score(const Template& candidate) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

PALMVEIN_NAMESPACE_END
