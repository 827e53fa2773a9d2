// SPDX-License-Identifier: Apache-2.0
// 1:N identification engine: kernel paths agree bit for bit, scores equal Matcher::score exactly,
// searches return the true top-k, and the index is safe under concurrent searches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "algorithm/aligned_array.hpp"
#include "algorithm/kernels.hpp"
#include "palmvein_tools/bench_gallery.hpp"
#include "identification/coarse_pass.hpp"
#include "internal/thread_pool.hpp"
#include "identification/layout.hpp"
#include "palmvein_tools/synthetic_gallery.hpp"
#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/identification.hpp"
#include "palmvein/matcher.hpp"
#include "template_data.hpp"

using namespace palmvein;
namespace ident = palmvein::detail::ident;
namespace algo = palmvein::detail::algo;

namespace {

Template extract(const Image& img) {
  const ExtractResult r = TemplateExtractor().extract(img, ImageKind::Roi);
  if (!r.ok()) throw Error("test image gave no template");
  return *r.templ;
}

// Templates of `palms` drawn palms x `captures` captures.
std::vector<Template> drawn_templates(int palms, int captures) {
  std::vector<Template> out;
  for (int p = 0; p < palms; ++p)
    for (int c = 0; c < captures; ++c) out.push_back(extract(tools::drawn_palm_roi(static_cast<std::uint64_t>(p), static_cast<std::uint64_t>(c))));
  return out;
}

const std::vector<Template>& shared_templates() {
  static const std::vector<Template> t = drawn_templates(12, 2);
  return t;
}

// The reference: Matcher::score against every template, sorted best first (ties: smaller id, then
// earlier entry), as the index promises.
std::vector<Candidate> brute_force(const Template& probe, const std::vector<Template>& gallery,
                                   const std::vector<std::uint64_t>& ids, std::size_t k) {
  const Matcher m(probe);
  std::vector<std::pair<Candidate, std::size_t>> all;
  for (std::size_t i = 0; i < gallery.size(); ++i) all.push_back({Candidate{ids[i], m.score(gallery[i])}, i});
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    if (a.first.score != b.first.score) return a.first.score > b.first.score;
    if (a.first.id != b.first.id) return a.first.id < b.first.id;
    return a.second < b.second;
  });
  std::vector<Candidate> out;
  for (std::size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].first);
  return out;
}

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("PALMVEIN_DATA_DIR")) return env;
  return PALMVEIN_TEST_DATA_DIR;
}

}  // namespace

TEST(IdentificationKernels, EveryPathGivesIdenticalCounts) {
  std::mt19937 rng(7);
  const auto paths = algo::available_isas();
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths.back(), algo::Isa::Portable);
  for (std::size_t planes : {1u, 3u, 6u, 17u})
    for (std::size_t rows : {16u, 32u, 48u})
      for (std::size_t shifts : {1u, 5u, 49u})
        for (bool both : {false, true}) {
          // The probe: planes of `stride` rows; each shift reads it at its own row offset (0..8).
          const std::size_t rec = (planes + 1) * rows, stride = rows + 8, count = 5;
          algo::AlignedRows probe((planes + 1) * stride), cands(count * rec);
          for (std::size_t i = 0; i < probe.size(); ++i) probe.data()[i] = rng() & rng();  // ~25% ones
          for (std::size_t i = 0; i < cands.size(); ++i) cands.data()[i] = rng() | rng();  // ~75% ones
          std::vector<const std::uint32_t*> origin;
          for (std::size_t s = 0; s < shifts; ++s) origin.push_back(probe.data() + (s * 7) % 9);
          std::vector<std::vector<std::uint32_t>> results;
          for (algo::Isa isa : paths) {
            std::vector<std::uint32_t> d(count * shifts, 99), v(d.size(), 99), b(d.size(), 99);
            algo::CountsTask t;
            t.probe = origin.data();
            t.probe_stride = stride;
            t.shifts = shifts;
            t.rows = rows;
            t.planes = planes;
            t.cands = cands.data();
            t.count = count;
            t.diff = d.data();
            t.valid = v.data();
            t.both = both ? b.data() : nullptr;
            algo::kernel_for(isa)(t);
            d.insert(d.end(), v.begin(), v.end());
            d.insert(d.end(), b.begin(), b.end());
            results.push_back(d);
          }
          for (std::size_t i = 1; i < results.size(); ++i)
            EXPECT_EQ(results[i], results[0]) << algo::to_string(paths[i]) << " planes " << planes << " rows "
                                              << rows << " shifts " << shifts;
          // And the portable path against a direct count for one (candidate, shift).
          const std::uint32_t* pv = origin[shifts - 1];
          const std::uint32_t* c = cands.data() + 2 * rec;
          std::uint32_t d = 0, v = 0;
          for (std::size_t y = 0; y < rows; ++y) {
            const std::uint32_t m = pv[planes * stride + y] & c[planes * rows + y];
            v += static_cast<std::uint32_t>(__builtin_popcount(m));
            for (std::size_t p = 0; p < planes; ++p)
              d += static_cast<std::uint32_t>(__builtin_popcount((pv[p * stride + y] ^ c[p * rows + y]) & m));
          }
          EXPECT_EQ(results[0][2 * shifts + shifts - 1], d);
          EXPECT_EQ(results[0][count * shifts + 2 * shifts + shifts - 1], v);
        }
}

// The pair kernels (both families of one candidate, as 1:1 comparison counts them) equal two
// portable CountsTask calls, on the geometry the AVX-512 path specialises (32 rows, 1..8 planes)
// and on one it hands back to the general kernel.
TEST(IdentificationKernels, EveryPairPathGivesIdenticalCounts) {
  std::mt19937 rng(3);
  for (std::size_t planes : {1u, 6u, 8u, 9u})
    for (std::size_t rows : {32u, 48u}) {
      const std::size_t stride = rows + 8, shifts = 13;
      algo::AlignedRows oprobe((planes + 1) * stride), lprobe(2 * stride), ocand((planes + 1) * rows), lcand(2 * rows);
      for (auto* a : {&oprobe, &lprobe}) for (std::size_t i = 0; i < a->size(); ++i) a->data()[i] = rng() & rng();
      for (auto* a : {&ocand, &lcand}) for (std::size_t i = 0; i < a->size(); ++i) a->data()[i] = rng() | rng();
      std::vector<const std::uint32_t*> po, pl;
      for (std::size_t s = 0; s < shifts; ++s) po.push_back(oprobe.data() + (s * 5) % 9), pl.push_back(lprobe.data() + (s * 7) % 9);
      std::vector<std::vector<std::uint32_t>> results;
      const auto run = [&](auto&& kernel) {
        std::vector<std::uint32_t> out(5 * shifts, 77);
        algo::PairTask t;
        t.o_probe = po.data();
        t.l_probe = pl.data();
        t.shifts = shifts;
        t.o_stride = t.l_stride = stride;
        t.o_rows = t.l_rows = rows;
        t.o_planes = planes;
        t.o_code = ocand.data();
        t.o_mask = ocand.data() + planes * rows;
        t.l_code = lcand.data();
        t.l_mask = lcand.data() + rows;
        t.od = out.data(), t.ov = t.od + shifts, t.ld = t.ov + shifts, t.lv = t.ld + shifts, t.lb = t.lv + shifts;
        kernel(t);
        results.push_back(out);
      };
      run([](const algo::PairTask& t) { algo::pair_by_counts(t, algo::counts_portable); });
      for (algo::Isa isa : algo::available_isas()) run(algo::kernels_for(isa).pair);
      for (std::size_t i = 1; i < results.size(); ++i)
        EXPECT_EQ(results[i], results[0]) << "path " << i << " planes " << planes << " rows " << rows;
    }
}

TEST(IdentificationKernels, EveryCoarsePathGivesIdenticalBestShifts) {
  std::mt19937_64 rng(11);
  const auto paths = algo::available_isas();
  for (std::size_t planes : {1u, 2u, 3u, 6u})
    for (std::size_t pw : {1u, 4u, 8u})
      for (std::size_t shifts : {1u, 9u, 25u})
        for (std::uint32_t min_valid : {1u, 40u}) {
          const std::size_t rec = (planes + 1) * pw, blocks = 3;
          algo::AlignedWords probe(shifts * rec), cands(blocks * rec * algo::kLanes);
          for (std::size_t i = 0; i < probe.size(); ++i) probe.data()[i] = rng() | rng();
          for (std::size_t i = 0; i < cands.size(); ++i) cands.data()[i] = rng() & (rng() | rng());
          // Some lanes share values so that ties (first shift wins) occur; one lane is empty.
          for (std::size_t w = 0; w < rec; ++w) cands.data()[w * algo::kLanes + 5] = 0;
          std::vector<std::vector<std::uint32_t>> results;
          for (algo::Isa isa : paths) {
            std::vector<std::uint32_t> d(blocks * algo::kLanes, 77), v(d.size(), 77);
            algo::CoarseTask t;
            t.probe = probe.data();
            t.shifts = shifts;
            t.planes = planes;
            t.plane_words = pw;
            t.min_valid = min_valid;
            t.blocks = cands.data();
            t.block_count = blocks;
            t.best_diff = d.data();
            t.best_valid = v.data();
            algo::coarse_kernel_for(isa)(t);
            d.insert(d.end(), v.begin(), v.end());
            results.push_back(d);
          }
          for (std::size_t i = 1; i < results.size(); ++i)
            EXPECT_EQ(results[i], results[0]) << algo::to_string(paths[i]) << " planes " << planes << " pw " << pw;
          EXPECT_EQ(results[0][blocks * algo::kLanes + 5], 0u);  // the empty lane has no valid shift
          // Lane 2 of block 1 against a direct search.
          std::uint64_t bd = 1, bv = 0;
          const std::uint64_t* block = cands.data() + rec * algo::kLanes;
          for (std::size_t s = 0; s < shifts; ++s) {
            std::uint64_t d = 0, v = 0;
            for (std::size_t w = 0; w < pw; ++w) {
              const std::uint64_t m = block[(planes * pw + w) * algo::kLanes + 2] & probe.data()[s * rec + planes * pw + w];
              v += static_cast<std::uint64_t>(__builtin_popcountll(m));
              for (std::size_t p = 0; p < planes; ++p)
                d += static_cast<std::uint64_t>(
                    __builtin_popcountll((block[(p * pw + w) * algo::kLanes + 2] ^ probe.data()[s * rec + p * pw + w]) & m));
            }
            if (v >= min_valid && (bv == 0 || d * bv < bd * v)) bd = d, bv = v;
          }
          EXPECT_EQ(results[0][algo::kLanes + 2], bv ? bd : 0u);
          EXPECT_EQ(results[0][blocks * algo::kLanes + algo::kLanes + 2], bv);
        }
}

TEST(IdentificationKernels, ForcingAnUnavailablePathThrows) {
  const auto paths = available_popcount_kernels();
  for (PopcountKernel k : {PopcountKernel::Avx2, PopcountKernel::Avx512}) {
    IdentificationOptions o;
    o.kernel = k;
    if (std::find(paths.begin(), paths.end(), k) == paths.end())
      EXPECT_THROW(IdentificationIndex{o}, InvalidArgument);
    else
      EXPECT_EQ(IdentificationIndex{o}.kernel(), k);
  }
}

TEST(Identification, ExhaustiveScoresEqualMatcherOnEveryPath) {
  const auto& t = shared_templates();
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < t.size(); ++i) ids.push_back(100 + i);
  for (PopcountKernel k : available_popcount_kernels()) {
    IdentificationOptions o;
    o.kernel = k;
    o.threads = 2;
    IdentificationIndex index(o);
    for (std::size_t i = 0; i < t.size(); ++i) index.add(ids[i], t[i]);
    for (std::size_t p = 0; p < t.size(); p += 5) {
      const auto got = index.search(t[p], t.size(), SearchStrategy::Exhaustive);
      const auto want = brute_force(t[p], t, ids, t.size());
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].id, want[i].id) << to_string(k) << " probe " << p << " rank " << i;
        EXPECT_EQ(got[i].score, want[i].score) << to_string(k) << " probe " << p << " rank " << i;  // exact
      }
      // Top-k (early abandoning of line codes) is the prefix of the full ranking.
      const auto top3 = index.search(t[p], 3, SearchStrategy::Exhaustive);
      ASSERT_EQ(top3.size(), 3u);
      for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(top3[i], want[i]);
    }
  }
}

TEST(Identification, GenuineMateIsRankOne) {
  const auto& t = shared_templates();  // palm p: captures 2p, 2p+1
  IdentificationIndex index;
  for (std::size_t i = 0; i < t.size(); i += 2) index.add(i / 2, t[i]);
  int correct = 0;
  for (std::size_t i = 1; i < t.size(); i += 2) {
    const auto r = index.search(t[i], 1);
    ASSERT_EQ(r.size(), 1u);
    correct += r[0].id == i / 2;
  }
  EXPECT_GE(correct, static_cast<int>(t.size() / 2) - 1);  // the drawn palms are easy
}

// The coarse pass (per-lane bar + nth_element trimming, then a merge) against the plain definition:
// every entry's kernel result, sorted by coarse_better, the first m. Many chunks, a shortlist small
// enough to be trimmed many times, tied lanes and empty lanes, 1 and 3 lanes.
TEST(IdentificationKernels, CoarsePassKeepsTheBestMOfEveryEntry) {
  std::mt19937_64 rng(5);
  constexpr std::size_t kPlanes = 6, kWords = 4, kShifts = 9, rec = (kPlanes + 1) * kWords, n = 5000;
  const std::size_t blocks = (n + algo::kLanes - 1) / algo::kLanes;
  algo::AlignedWords probe(kShifts * rec), cands(blocks * rec * algo::kLanes);
  for (std::size_t i = 0; i < probe.size(); ++i) probe.data()[i] = rng() | rng();
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t w = 0; w < rec; ++w)
      for (std::size_t l = 0; l < algo::kLanes; ++l) {
        std::uint64_t& x = cands.data()[(b * rec + w) * algo::kLanes + l];
        if (b * algo::kLanes + l >= n || (b % 7 == 3 && l == 4)) x = 0;           // padding, no valid cells
        else if (b % 5 == 1 && l == 6) x = cands.data()[(b * rec + w) * algo::kLanes];  // ties with lane 0
        else x = w >= kPlanes * kWords ? (rng() | rng()) : rng();
      }
  const ident::CoarseGallery g{cands.data(), n, ident::FamilyShape{kPlanes, kWords, kShifts}, 30};
  for (algo::Isa isa : algo::available_isas()) {
    const auto kernel = algo::coarse_kernel_for(isa);
    std::vector<std::uint32_t> d(blocks * algo::kLanes), v(d.size());
    algo::CoarseTask t;
    t.probe = probe.data();
    t.shifts = kShifts;
    t.planes = kPlanes;
    t.plane_words = kWords;
    t.min_valid = g.min_valid;
    t.blocks = cands.data();
    t.block_count = blocks;
    t.best_diff = d.data();
    t.best_valid = v.data();
    kernel(t);
    std::vector<ident::CoarseHit> all;
    for (std::size_t e = 0; e < n; ++e) all.push_back({d[e], v[e], e});
    std::sort(all.begin(), all.end(), ident::coarse_better);
    for (std::size_t m : {1u, 37u, 600u, 5000u, 9000u})
      for (unsigned lanes : {1u, 3u}) {
        palmvein::internal::ThreadPool pool(lanes - 1);
        const auto got = ident::coarse_pass(g, probe.data(), m, kernel, pool, lanes);
        ASSERT_EQ(got.size(), std::min<std::size_t>(m, n)) << m;
        for (std::size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i].entry, all[i].entry) << algo::to_string(isa) << " m " << m << " lanes " << lanes << " rank " << i;
          ASSERT_EQ(got[i].diff, all[i].diff);
          ASSERT_EQ(got[i].valid, all[i].valid);
        }
      }
  }
}

TEST(Identification, ReserveBeforeTheFirstTemplateChangesNothing) {
  const auto& t = shared_templates();
  IdentificationIndex plain, reserved;
  reserved.reserve(1000);
  for (std::size_t i = 0; i < t.size(); ++i) plain.add(i, t[i]), reserved.add(i, t[i]);
  for (std::size_t p = 0; p < t.size(); ++p) EXPECT_EQ(reserved.search(t[p], 5), plain.search(t[p], 5));
}

TEST(Identification, CoarseToFineWithFullShortlistIsExhaustive) {
  const auto& t = shared_templates();
  IdentificationOptions o;
  o.shortlist = t.size();
  IdentificationIndex full(o);
  IdentificationIndex fast;  // automatic shortlist (>= the gallery here)
  for (std::size_t i = 0; i < t.size(); ++i) full.add(i, t[i]), fast.add(i, t[i]);
  for (std::size_t p = 0; p < t.size(); ++p) {
    const auto ex = full.search(t[p], 5, SearchStrategy::Exhaustive);
    EXPECT_EQ(full.search(t[p], 5, SearchStrategy::CoarseToFine), ex);
    EXPECT_EQ(fast.search(t[p], 5), ex);
  }
  // A tiny shortlist still returns exact scores for what it returns.
  o.shortlist = 3;
  IdentificationIndex tiny(o);
  for (std::size_t i = 0; i < t.size(); ++i) tiny.add(i, t[i]);
  const auto r = tiny.search(t[0], 10);
  ASSERT_EQ(r.size(), 3u);
  for (const auto& c : r) EXPECT_EQ(c.score, match(t[0], t[c.id]));
}

TEST(Identification, EveryCoarsePlaneCountKeepsExactScores) {
  const auto& t = shared_templates();
  for (int planes : {1, 2, 3, 6, 16}) {
    IdentificationOptions o;
    o.shortlist = t.size();
    o.coarse_planes = planes;
    IdentificationIndex index(o);
    for (std::size_t i = 0; i < t.size(); ++i) index.add(i, t[i]);
    for (std::size_t p = 0; p < t.size(); p += 5)
      EXPECT_EQ(index.search(t[p], 5), index.search(t[p], 5, SearchStrategy::Exhaustive)) << "planes " << planes;
  }
  IdentificationOptions bad;
  bad.coarse_planes = 17;
  EXPECT_THROW(IdentificationIndex{bad}, InvalidArgument);
  bad.coarse_planes = -1;
  EXPECT_THROW(IdentificationIndex{bad}, InvalidArgument);
}

namespace {

// `code` translated by (dx, dy) cells: cell (x, y) takes cell (x - dx, y - dy); cells from outside
// are invalid.
detail::BitCode translated(const detail::BitCode& code, int dx, int dy) {
  detail::BitCode out = code;
  std::fill(out.bits.begin(), out.bits.end(), 0);
  std::fill(out.mask.begin(), out.mask.end(), 0);
  const std::size_t words = code.words_per_plane();
  for (int y = 0; y < code.height; ++y)
    for (int x = 0; x < code.width; ++x) {
      const int sx = x - dx, sy = y - dy;
      if (sx < 0 || sy < 0 || sx >= code.width || sy >= code.height || !code.valid(sx, sy)) continue;
      const std::size_t i = static_cast<std::size_t>(y) * code.width + static_cast<std::size_t>(x);
      out.mask[i / 64] |= std::uint64_t{1} << (i % 64);
      for (std::size_t p = 0; p < code.planes; ++p)
        if (code.bit(p, sx, sy)) out.bits[p * words + i / 64] |= std::uint64_t{1} << (i % 64);
    }
  return out;
}

}  // namespace

// Known answers for the pre-filter's shift search: a template translated by any even number of
// fine cells up to the matcher's first-stage reach (+-4 cells, i.e. +-2 coarse cells) is, to the
// pre-filter, its original at distance 0, whatever the plane count; it is therefore ranked first
// among other palms.
TEST(Identification, PrefilterFindsEveryTranslateWithinTheMatchersReach) {
  const auto& t = shared_templates();
  for (int planes : {2, 3, 6}) {
    IdentificationOptions o;
    o.coarse_planes = planes;
    for (int ay = -2; ay <= 2; ++ay)
      for (int ax = -2; ax <= 2; ++ax) {
        auto moved = std::make_shared<detail::TemplateData>(t[0].data());
        moved->orientation = translated(moved->orientation, 2 * ax, 2 * ay);
        moved->lines = translated(moved->lines, 2 * ax, 2 * ay);
        IdentificationIndex index(o);
        for (std::size_t i = 2; i < t.size(); ++i) index.add(i, t[i]);  // other palms (t[1] is t[0]'s mate)
        index.add(0, Template(moved));
        const auto top = index.prefilter(t[0], 2);
        ASSERT_EQ(top.size(), 2u);
        EXPECT_EQ(top[0].id, 0u) << "planes " << planes << " translate " << 2 * ax << "," << 2 * ay;
        EXPECT_EQ(top[0].score, 1.0) << "planes " << planes << " translate " << 2 * ax << "," << 2 * ay;
        EXPECT_LT(top[1].score, 0.8) << "planes " << planes;
      }
  }
}

TEST(Identification, TiesRankBySmallerIdThenEnrolmentOrder) {
  const auto& t = shared_templates();
  IdentificationIndex index;
  index.add(9, t[0]);
  index.add(4, t[0]);
  index.add(4, t[0]);
  index.add(7, t[3]);
  const auto r = index.search(t[0], 4);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].id, 4u);
  EXPECT_EQ(r[1].id, 4u);
  EXPECT_EQ(r[2].id, 9u);
  EXPECT_EQ(r[0].score, r[2].score);
  EXPECT_EQ(r[3].id, 7u);
}

TEST(Identification, ThreadCountsGiveIdenticalResults) {
  const auto& t = shared_templates();
  std::vector<std::vector<Candidate>> results;
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    IdentificationOptions o;
    o.threads = threads;
    IdentificationIndex index(o);
    for (std::size_t i = 0; i < t.size(); ++i) index.add(i, t[i]);
    results.push_back(index.search(t[5], 8, SearchStrategy::Exhaustive));
    EXPECT_EQ(index.search(t[5], 8, SearchStrategy::CoarseToFine), results.back());
  }
  for (const auto& r : results) EXPECT_EQ(r, results.front());
}

TEST(Identification, ConcurrentSearchesAndAdds) {
  const auto& t = shared_templates();
  IdentificationOptions o;
  o.threads = 2;
  IdentificationIndex index(o);
  for (std::size_t i = 0; i < 10; ++i) index.add(i, t[i]);
  const auto expected = index.search(t[1], 3);
  std::atomic<int> mismatches{0};
  std::vector<std::jthread> searchers;
  for (int s = 0; s < 4; ++s)
    searchers.emplace_back([&] {
      for (int n = 0; n < 20; ++n) {
        const auto r = index.search(t[1], 3);
        // Entries added meanwhile may only push in better candidates; the scores never change.
        for (const auto& c : r)
          if (c.score != match(t[1], t[c.id])) ++mismatches;
        if (r.empty() || r[0].score < expected[0].score) ++mismatches;
      }
    });
  for (std::size_t i = 10; i < t.size(); ++i) index.add(i, t[i]);
  searchers.clear();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(index.size(), t.size());
}

TEST(Identification, RemoveClearAndErrors) {
  const auto& t = shared_templates();
  IdentificationIndex index;
  EXPECT_TRUE(index.search(t[0], 3).empty());
  EXPECT_EQ(index.bytes_per_template(), 0u);
  for (std::size_t i = 0; i < 6; ++i) index.add(i % 3, t[i]);
  EXPECT_GT(index.bytes_per_template(), 0u);
  EXPECT_LE(index.bytes_per_template(), 2048u);
  EXPECT_EQ(index.remove(1), 2u);
  EXPECT_EQ(index.remove(1), 0u);
  EXPECT_EQ(index.size(), 4u);
  for (const auto& c : index.search(t[1], 10)) EXPECT_NE(c.id, 1u);
  EXPECT_EQ(index.search(t[1], 10).size(), 4u);
  EXPECT_EQ(index.search(t[1], 10), index.search(t[1], 10, SearchStrategy::Exhaustive));
  // A template of another geometry is refused with a clear error.
  auto other = std::make_shared<detail::TemplateData>(t[0].data());
  other->params.orientations = 4;
  other->orientation.planes = 4;
  other->orientation.bits.resize(4 * other->orientation.words_per_plane());
  EXPECT_THROW(index.add(5, Template(other)), InvalidArgument);
  EXPECT_THROW(index.search(Template(other), 1), InvalidArgument);
  // What Matcher compares, the index accepts: the recorded shift radius is informational.
  auto radius = std::make_shared<detail::TemplateData>(t[0].data());
  radius->params.max_shift = static_cast<std::uint8_t>(radius->params.max_shift + 1);
  EXPECT_EQ(index.search(Template(radius), 1).front().score, Matcher(Template(radius)).score(t[0]));
  index.clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.search(t[0], 1).empty());
  IdentificationOptions bad;
  bad.threads = 100000;
  EXPECT_THROW(bad.check(), InvalidArgument);
}

TEST(Identification, IdentifyAppliesTheThreshold) {
  const auto& t = shared_templates();
  IdentificationIndex index;
  for (std::size_t i = 0; i < t.size(); i += 2) index.add(i, t[i]);
  const double s = index.search(t[0], 1)[0].score;
  ASSERT_TRUE(index.identify(t[0], s).has_value());
  EXPECT_FALSE(index.identify(t[0], std::nextafter(s, 2.0)).has_value());
  // identify_at_fmr reads its threshold the one way, DecisionThreshold::at_fmr.
  for (const double fmr : {1e-2, 1e-4}) {
    const double threshold = DecisionThreshold::at_fmr(fmr).score;
    EXPECT_EQ(index.identify_at_fmr(t[0], fmr).has_value(), s >= threshold) << fmr;
  }
  EXPECT_THROW((void)index.identify_at_fmr(t[0], 0.0), InvalidArgument);
}

TEST(Identification, FastDownsampleEqualsReference) {
  for (const Template& t : shared_templates()) {
    const auto& o = t.data().orientation;
    EXPECT_EQ(ident::downsample(o, 2, true), ident::downsample(o, 2, false));
  }
  const tools::MosaicMaker maker(std::vector<Template>(shared_templates().begin(), shared_templates().end()));
  for (std::uint64_t n = 0; n < 20; ++n) {
    const Template m = maker.make(n);
    const auto& o = m.data().orientation;
    EXPECT_EQ(ident::downsample(o, 2, true), ident::downsample(o, 2, false));
  }
  // Every state of a 2x2 block (4 validity bits, 4 code bits), one per block of a 32x32 code, in each
  // of the two planes (the second plane inverted); and a 30x30 code (blocks across word borders).
  for (const int side : {32, 30}) {
    detail::BitCode code;
    code.width = code.height = static_cast<std::uint16_t>(side);
    code.planes = 2;
    code.bits.assign(2 * code.words_per_plane(), 0);
    code.mask.assign(code.words_per_plane(), 0);
    const auto set = [&](std::uint64_t* plane, int x, int y) {
      const std::size_t i = static_cast<std::size_t>(y) * code.width + static_cast<std::size_t>(x);
      plane[i / 64] |= std::uint64_t{1} << (i % 64);
    };
    const int blocks = side / 2;
    for (int by = 0; by < blocks; ++by)
      for (int bx = 0; bx < blocks; ++bx) {
        const int state = (by * blocks + bx) % 256;
        for (int c = 0; c < 4; ++c) {
          const int x = 2 * bx + (c & 1), y = 2 * by + (c >> 1);
          if ((state >> c) & 1) set(code.mask.data(), x, y);
          if ((state >> (4 + c)) & 1) set(code.bits.data(), x, y);
          else set(code.bits.data() + code.words_per_plane(), x, y);
        }
      }
    EXPECT_EQ(ident::downsample(code, 2, true), ident::downsample(code, 2, false)) << side;
  }
}

TEST(Identification, MosaicsAreDeterministicCompatibleAndNew) {
  const auto& t = shared_templates();
  const tools::MosaicMaker maker(std::vector<Template>(t.begin(), t.end()));
  const Template a = maker.make(17), b = maker.make(17), c = maker.make(18);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_FALSE(a.data() == c.data());
  IdentificationIndex index;
  for (std::size_t i = 0; i < t.size(); ++i) index.add(i, t[i]);
  index.add(999, a);  // compatible geometry
  // A mosaic is no copy of a source: its own score is higher than any source's.
  const auto r = index.search(a, 2);
  EXPECT_EQ(r[0].id, 999u);
  EXPECT_GT(r[0].score, r[1].score);
  EXPECT_THROW(tools::MosaicMaker(std::vector<Template>{t[0]}), InvalidArgument);
}

// Real templates: exact agreement with Matcher::score on extracted PolyU ROIs (drift of the
// matcher or of the template layout is caught here). Skipped when the data set is absent.
TEST(IdentificationRealData, ScoresEqualMatcherOnPolyU) {
  const auto dir = data_dir() / "polyu-nir-roi";
  if (!std::filesystem::exists(dir / "MANIFEST.csv")) GTEST_SKIP() << "no " << dir;
  std::vector<Template> t;
  for (int palm = 1; palm <= 40 && t.size() < 40; palm += 9)
    for (int s : {1, 2, 7, 12}) {
      char name[64];
      std::snprintf(name, sizeof name, "I_%04d_%02d.jpg", palm, s);
      if (!std::filesystem::exists(dir / name)) continue;
      const auto r = TemplateExtractor().extract(read_image(dir / name), ImageKind::Roi);
      if (r.ok()) t.push_back(*r.templ);
    }
  ASSERT_GE(t.size(), 8u);
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < t.size(); ++i) ids.push_back(i);
  for (PopcountKernel k : available_popcount_kernels()) {
    IdentificationOptions o;
    o.kernel = k;
    IdentificationIndex index(o);
    for (std::size_t i = 0; i < t.size(); ++i) index.add(ids[i], t[i]);
    for (std::size_t p = 0; p < t.size(); p += 3) {
      const auto got = index.search(t[p], t.size(), SearchStrategy::Exhaustive);
      EXPECT_EQ(got, brute_force(t[p], t, ids, t.size())) << to_string(k) << " probe " << p;
    }
  }
}
