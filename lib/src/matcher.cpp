// SPDX-License-Identifier: Apache-2.0
// 1:1 matching: the algorithm's comparison (algorithm/comparison.hpp) around one prepared probe, or
// for a one-off match(a, b) around a probe prepared only as far as that comparison needs.
#include "palmvein/matcher.hpp"

#include "algorithm/comparison.hpp"
#include "template_data.hpp"

namespace palmvein {
inline namespace v1 {

struct Matcher::Impl {
  detail::algo::PreparedProbe probe;
};

Matcher::Matcher(const Template& probe) : impl_(std::make_unique<Impl>(Impl{detail::algo::prepare_probe(probe.data())})) {}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

double Matcher::score(const Template& candidate) const { return detail::algo::score(impl_->probe, candidate.data()); }

double match(const Template& a, const Template& b) { return detail::algo::score_once(a.data(), b.data()); }

}  // namespace v1
}  // namespace palmvein
