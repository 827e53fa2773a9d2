// SPDX-License-Identifier: Apache-2.0
// The application flows, written once: 1:1 verification (a Matcher over one identity's templates)
// and 1:N identification (the 1:N engine over every template), each compared with a decision
// threshold. The CLI, the GUI and the demo call these. A person presented with both hands is decided
// on the fusion of the two hands' scores (PersonProbe, two_hand_threshold; docs/gallery.md "Two hands").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "palmvein/enrollment.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/matcher.hpp"
#include "gallery_search_internal.hpp"

PALMVEIN_NAMESPACE_BEGIN

Verifier Verifier::load(const Gallery& gallery, std::string_view id, std::optional<Hand> hand) {
  const std::vector<StoredTemplate> stored = gallery.templates_of(id, hand);  // decrypts and authenticates
  if (stored.empty())
    throw GalleryError(GalleryFault::NotFound, "identity '" + escape_text(id) + "'" +
                                                   (hand ? " (hand " + std::string(to_string(*hand)) + ")" : std::string()) +
                                                   " is not enrolled in '" + gallery.path().string() + "'");
  Verifier v;
  v.id_ = std::string(id);
  v.hands_.reserve(stored.size());
  v.templates_.reserve(stored.size());
  for (const StoredTemplate& t : stored) {
    v.hands_.push_back(t.hand);
    v.templates_.push_back(Template::from_bytes(t.bytes));
  }
  return v;
}

VerificationResult Verifier::verify(const Template& probe, const DecisionThreshold& threshold) const {
  const Matcher matcher(probe);
  VerificationResult r;
  r.id = id_;
  r.threshold = threshold;
  r.templates_compared = templates_.size();
  r.score = kLowestScore;
  // Max fusion; on a tie the template listed first wins.
  bool first = true;
  for (std::size_t i = 0; i < templates_.size(); ++i) {
    const double s = matcher.score(templates_[i]);
    if (first || s > r.score) {
      r.score = s;
      r.hand = hands_[i];
      first = false;
    }
  }
  r.accepted = r.score >= threshold.score;
  return r;
}

namespace {


void check_person_probe(const PersonProbe& probe) {
  if (probe.empty()) throw InvalidArgument("a person probe needs at least one hand (left or right)");
}

// The best-first order of identity scores; equal scores in a fixed order (by id), so that a merged or
// fused ranking does not depend on which index was searched first.
bool better(const IdentityScore& a, const IdentityScore& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.id != b.id) return a.id < b.id;
  return a.hand < b.hand;
}

}  // namespace

DecisionThreshold two_hand_threshold(const DecisionThreshold& threshold) {
  if (!threshold.fmr) return threshold;  // a score threshold applies to the fused score as given
  const double fmr = *threshold.fmr;
  if (!(fmr > 0 && fmr < 1))  // the calibration's message, for the rate that was asked for
    (void)DecisionThreshold::at_fmr(fmr);
  DecisionThreshold fused;
  fused.fmr = fmr;
  const double per_hand = two_hand_per_hand_fmr(fmr);  // p(t)^2 = F for independent hands
  try {
    fused.score = Calibration::builtin().threshold_for_fmr(per_hand);
  } catch (const InvalidArgument& e) {
    char text[160];
    std::snprintf(text, sizeof text, "a two-hand decision at false-match rate %g uses the per-hand rate %g (its square root): ",
                  fmr, per_hand);
    throw InvalidArgument(text + std::string(e.what()));
  }
  return fused;
}

VerificationResult Verifier::verify(const PersonProbe& probe, const DecisionThreshold& threshold) const {
  check_person_probe(probe);
  // The best score of `side`'s templates; NotFound when this Verifier holds none of that hand.
  auto best_of = [&](const Template& side_probe, Hand side, std::size_t& compared) {
    const Matcher matcher(side_probe);
    double best = kLowestScore;
    bool any = false;
    for (std::size_t i = 0; i < templates_.size(); ++i) {
      if (hands_[i] != side) continue;
      best = std::max(best, matcher.score(templates_[i]));
      any = true;
      ++compared;
    }
    if (!any)
      throw GalleryError(GalleryFault::NotFound,
                         "identity '" + escape_text(id_) + "' has no " + hand_name(side) + " hand enrolled (hand " +
                             std::string(to_string(side)) + ")");
    return best;
  };
  VerificationResult r;
  r.id = id_;
  std::size_t compared = 0;
  if (probe.left) r.left_score = best_of(*probe.left, Hand::Left, compared);
  if (probe.right) r.right_score = best_of(*probe.right, Hand::Right, compared);
  r.templates_compared = compared;
  if (probe.both()) {
    r.two_hands = true;
    r.hand = Hand::Unknown;
    r.score = fuse_hand_scores(*r.left_score, *r.right_score);
    r.threshold = two_hand_threshold(threshold);
  } else {
    r.hand = probe.left ? Hand::Left : Hand::Right;
    r.score = probe.left ? *r.left_score : *r.right_score;
    r.threshold = threshold;
  }
  r.accepted = r.score >= r.threshold.score;
  return r;
}

Identifier Identifier::load(const Gallery& gallery) {
  Identifier identifier;
  auto searches = detail::load_searches_by_hand(gallery);  // decrypts and authenticates everything, streamed
  for (std::size_t h = 0; h < searches.size(); ++h) identifier.searches_[h] = std::move(searches[h]);
  return identifier;
}

IdentificationResult Identifier::identify(const Template& probe, const DecisionThreshold& threshold, std::size_t k) const {
  IdentificationResult r;
  r.threshold = threshold;
  r.templates_compared = template_count();
  // Each hand's k best contain the overall k best (the scores are exact).
  for (const auto& search : searches_) {
    if (!search) continue;
    std::vector<IdentityScore> part = search->rank(probe, k);
    r.candidates.insert(r.candidates.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  std::sort(r.candidates.begin(), r.candidates.end(), better);
  if (k != 0 && r.candidates.size() > k) r.candidates.resize(k);
  if (!r.candidates.empty() && r.candidates.front().score >= threshold.score) r.identity = r.candidates.front();
  return r;
}

IdentificationResult Identifier::identify(const PersonProbe& probe, const DecisionThreshold& threshold, std::size_t k) const {
  check_person_probe(probe);
  const GallerySearch* left = searches_[detail::hand_slot(Hand::Left)].get();
  const GallerySearch* right = searches_[detail::hand_slot(Hand::Right)].get();
  IdentificationResult r;
  if (!probe.both()) {  // one hand: that hand's gallery, the threshold as given
    const GallerySearch* search = probe.left ? left : right;
    r.threshold = threshold;
    if (!search) return r;  // nobody enrolled with that hand
    r.templates_compared = search->template_count();
    r.candidates = search->rank(probe.left ? *probe.left : *probe.right, k);
    std::sort(r.candidates.begin(), r.candidates.end(), better);
    if (!r.candidates.empty() && r.candidates.front().score >= threshold.score) r.identity = r.candidates.front();
    return r;
  }

  r.two_hands = true;
  r.threshold = two_hand_threshold(threshold);
  if (!left || !right) return r;  // nobody enrolled with both hands
  r.templates_compared = left->template_count() + right->template_count();
  // Each hand's m best identities, m growing until the fused top k is certain: a person outside a
  // hand's m best scores at most that list's last score on that hand, so at most that in fusion
  // (min). Fused scores above both lists' cut-offs are final; a complete list has no cut-off.
  const std::size_t wanted_default = k == 0 ? 0 : std::max<std::size_t>(4 * k, 64);
  for (std::size_t m = wanted_default;; m *= 4) {
    const std::vector<IdentityScore> ls = left->rank(*probe.left, m), rs = right->rank(*probe.right, m);
    const bool left_complete = m == 0 || ls.size() < m, right_complete = m == 0 || rs.size() < m;
    const double cut = std::max(left_complete ? -1.0 : ls.back().score, right_complete ? -1.0 : rs.back().score);
    std::map<std::string_view, const IdentityScore*> right_of;
    for (const IdentityScore& s : rs) right_of.emplace(s.id, &s);
    std::vector<IdentityScore> fused;
    for (const IdentityScore& l : ls) {
      const auto it = right_of.find(l.id);
      if (it == right_of.end()) continue;
      IdentityScore f;
      f.id = l.id;
      f.hand = Hand::Unknown;
      f.left_score = l.score;
      f.right_score = it->second->score;
      f.score = fuse_hand_scores(l.score, it->second->score);
      f.templates = l.templates + it->second->templates;
      fused.push_back(std::move(f));
    }
    std::sort(fused.begin(), fused.end(), better);
    const std::size_t certain = static_cast<std::size_t>(
        std::count_if(fused.begin(), fused.end(), [&](const IdentityScore& f) { return f.score > cut; }));
    if ((left_complete && right_complete) || certain >= k) {
      if (k != 0 && fused.size() > k) fused.resize(k);
      r.candidates = std::move(fused);
      break;
    }
  }
  if (!r.candidates.empty() && r.candidates.front().score >= r.threshold.score) r.identity = r.candidates.front();
  return r;
}

std::size_t Identifier::template_count() const {
  std::size_t n = 0;
  for (const auto& search : searches_)
    if (search) n += search->template_count();
  return n;
}

VerificationResult Gallery::verify(std::string_view id, std::optional<Hand> hand, const Template& probe,
                                   const DecisionThreshold& threshold) const {
  return Verifier::load(*this, id, hand).verify(probe, threshold);
}

IdentificationResult Gallery::identify(const Template& probe, const DecisionThreshold& threshold, std::size_t k) const {
  return Identifier::load(*this).identify(probe, threshold, k);
}

VerificationResult Gallery::verify(std::string_view id, const PersonProbe& probe, const DecisionThreshold& threshold) const {
  check_person_probe(probe);
  return Verifier::load(*this, id).verify(probe, threshold);
}

IdentificationResult Gallery::identify(const PersonProbe& probe, const DecisionThreshold& threshold, std::size_t k) const {
  check_person_probe(probe);
  return Identifier::load(*this).identify(probe, threshold, k);
}

PALMVEIN_NAMESPACE_END
