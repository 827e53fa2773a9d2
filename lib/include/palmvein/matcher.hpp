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

// The lowest score the matcher can give.
inline constexpr double kLowestScore = 0.0;

// Symmetric similarity of two templates, with a search over residual translation and rotation.
// Throws InvalidArgument if the templates come from incompatible algorithms.
PALMVEIN_API double match(const Template& a, const Template& b);

// A matcher prepared around one probe (pre-shifted codes) to score many candidates fast.
class PALMVEIN_API Matcher {
 public:
  explicit Matcher(const Template& probe);
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;
  double score(const Template& candidate) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

PALMVEIN_NAMESPACE_END
