// 1:1 matching: fused, shift-searched similarity of the orientation and vein-line codes
// (features/code_match.cpp).
#include "palmvein/matcher.hpp"

#include "features/code_match.hpp"
#include "template_data.hpp"

namespace palmvein {
inline namespace v1 {

struct Matcher::Impl {
  detail::PreparedProbe probe;
};

Matcher::Matcher(const Template& probe) : impl_(std::make_unique<Impl>(Impl{detail::prepare_probe(probe.data())})) {}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

double Matcher::score(const Template& candidate) const {
  return detail::score_prepared(impl_->probe, candidate.data());
}

double match(const Template& a, const Template& b) { return Matcher(a).score(b); }

}  // namespace v1
}  // namespace palmvein
