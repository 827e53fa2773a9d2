// SPDX-License-Identifier: Apache-2.0
// All-pairs score storage, the protocol's score file, genuine/impostor labelling and rank-1.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>

#include "internal/csv.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

namespace palmvein {
inline namespace v1 {

PairScores::PairScores(std::size_t images) : n_(images), q_(images < 2 ? 0 : images * (images - 1) / 2, 0) {}

std::int32_t PairScores::quantize(double score) {
  if (!std::isfinite(score) || std::abs(score) > 2000.0)
    throw InvalidArgument("score " + std::to_string(score) + " is not finite or beyond +-2000");
  return static_cast<std::int32_t>(std::llround(score * 1e6));
}

char* format_score(char* out, std::int32_t q) noexcept {
  std::uint32_t v;
  if (q < 0) {
    *out++ = '-';
    v = static_cast<std::uint32_t>(-static_cast<std::int64_t>(q));
  } else {
    v = static_cast<std::uint32_t>(q);
  }
  std::uint32_t whole = v / 1000000, frac = v % 1000000;
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole);
  while (n) *out++ = digits[--n];
  if (frac) {
    *out++ = '.';
    char f[6];
    for (int k = 5; k >= 0; --k) {
      f[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int len = 6;
    while (f[len - 1] == '0') --len;
    std::memcpy(out, f, static_cast<std::size_t>(len));
    out += len;
  }
  return out;
}

std::string format_score_csv(const Manifest& manifest, const PairScores& scores) {
  const std::size_t n = manifest.size();
  if (scores.images() != n) throw InvalidArgument("score table and manifest differ in size");
  std::vector<std::string> field(n);
  std::size_t total_path = 0;
  for (std::size_t i = 0; i < n; ++i) {
    internal::append_csv_field(field[i], manifest.entries()[i].path);
    total_path += field[i].size();
  }
  // Size the buffer once: every image appears in n-1 rows; a score takes at most 12 chars.
  const std::size_t estimate = 10 + scores.pairs() * 16 + (n ? total_path * (n - 1) : 0);
  std::string out;
  out.resize(estimate);
  char* p = out.data();
  std::memcpy(p, "a,b,score\n", 10);
  p += 10;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const std::string& a = field[i];
    for (std::size_t j = i + 1; j < n; ++j) {
      const std::string& b = field[j];
      std::memcpy(p, a.data(), a.size());
      p += a.size();
      *p++ = ',';
      std::memcpy(p, b.data(), b.size());
      p += b.size();
      *p++ = ',';
      p = format_score(p, scores.quantized(i, j));
      *p++ = '\n';
    }
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out;
}

namespace {

// A small integer per palm (subject, hand), so that the O(n^2) loops compare ints, not strings.
std::vector<std::uint32_t> palm_ids(const Manifest& manifest) {
  std::unordered_map<std::string, std::uint32_t> ids;
  std::vector<std::uint32_t> out;
  out.reserve(manifest.size());
  for (const auto& e : manifest.entries()) {
    const std::string key = e.subject + '\0' + std::string(to_string(e.hand));
    out.push_back(ids.emplace(key, static_cast<std::uint32_t>(ids.size())).first->second);
  }
  return out;
}

}  // namespace

LabelledScores label_scores(const Manifest& manifest, const PairScores& scores, bool cross_session) {
  const std::size_t n = manifest.size();
  if (scores.images() != n) throw InvalidArgument("score table and manifest differ in size");
  const auto& e = manifest.entries();
  const std::vector<std::uint32_t> palm = palm_ids(manifest);
  LabelledScores out;
  out.impostor.reserve(scores.pairs());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double s = scores.score(i, j);
      if (palm[i] != palm[j]) out.impostor.push_back(s);
      else if (!cross_session || (!e[i].session.empty() && !e[j].session.empty() && e[i].session != e[j].session))
        out.genuine.push_back(s);
    }
  return out;
}

Rank1 rank1_identification(const Manifest& manifest, const PairScores& scores) {
  const std::size_t n = manifest.size();
  if (scores.images() != n) throw InvalidArgument("score table and manifest differ in size");
  const std::vector<std::uint32_t> palm = palm_ids(manifest);
  constexpr std::int32_t kNone = std::numeric_limits<std::int32_t>::min();
  Rank1 r;
  for (std::size_t i = 0; i < n; ++i) {
    std::int32_t best_genuine = kNone, best_impostor = kNone;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const std::int32_t q = scores.quantized(i, j);
      std::int32_t& best = palm[i] == palm[j] ? best_genuine : best_impostor;
      best = std::max(best, q);
    }
    if (best_genuine == kNone) continue;  // no mate in the gallery: not a closed-set probe
    ++r.probes;
    if (best_genuine > best_impostor) ++r.identified;
  }
  return r;
}

}  // namespace v1
}  // namespace palmvein
