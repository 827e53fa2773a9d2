// SPDX-License-Identifier: Apache-2.0
#include "algorithm/comparison.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <string>

#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail::algo {

PreparedProbe prepare_probe(const TemplateData& t, const FeatureConfig& cfg) {
  check_row_packable(t.orientation, "orientation");
  check_row_packable(t.lines, "line");
  if (t.lines.planes != 1) throw InvalidArgument("matcher: the line code must have 1 plane");
  PreparedProbe p;
  p.algorithm = t.algorithm;
  p.params = t.params;
  p.o_width = t.orientation.width;
  p.o_height = t.orientation.height;
  p.o_planes = t.orientation.planes;
  p.l_width = t.lines.width;
  p.l_height = t.lines.height;
  p.search = ShiftSearch(t, cfg);
  p.orientation = ShiftedRows(t.orientation, p.search.orientation_radius());
  p.lines = ShiftedRows(t.lines, p.search.line_radius());
  if (p.search.pose_variants() > 0) p.poses = std::make_shared<PreparedProbe::LazyPoses>(t, cfg, p.search);
  for (const Shift& s : p.search.first_orientation()) p.o_first.push_back(p.orientation.at(s.dx, s.dy));
  for (const Shift& s : p.search.first_lines()) p.l_first.push_back(p.lines.at(s.dx, s.dy));
  return p;
}

void check_comparable(const PreparedProbe& p, const TemplateData& c) {
  if (c.algorithm != p.algorithm)
    throw InvalidArgument("templates of algorithms " + std::to_string(p.algorithm) + " and " +
                          std::to_string(c.algorithm) + " cannot be compared: re-enrol the older one with this library");
  if (c.params.roi_size != p.params.roi_size || c.params.orientations != p.params.orientations)
    throw InvalidArgument("templates come from different parameters of algorithm " + std::to_string(p.algorithm) +
                          " (ROI " + std::to_string(p.params.roi_size) + "/" + std::to_string(c.params.roi_size) +
                          ", orientations " + std::to_string(p.params.orientations) + "/" +
                          std::to_string(c.params.orientations) + ")");
  const auto same = [](const BitCode& code, int w, int h, int planes) {
    return code.width == w && code.height == h && code.planes == planes &&
           code.bits.size() == code.words_per_plane() * static_cast<std::size_t>(planes) &&
           code.mask.size() == code.words_per_plane();
  };
  if (!same(c.orientation, p.o_width, p.o_height, p.o_planes) || !same(c.lines, p.l_width, p.l_height, 1))
    throw InvalidArgument("templates have incompatible code geometry");
}

namespace {

// A pair task for one candidate, without its shifts.
PairTask pair_task(const PreparedProbe& p, const CandidateRows& c, std::uint32_t* od, std::uint32_t* ov,
                   std::uint32_t* ld, std::uint32_t* lv, std::uint32_t* lb) {
  PairTask t;
  t.o_stride = p.orientation.stride();
  t.l_stride = p.lines.stride();
  t.o_rows = p.orientation.rows();
  t.l_rows = p.lines.rows();
  t.o_planes = p.orientation.planes();
  t.o_code = c.o_code;
  t.o_mask = c.o_mask;
  t.l_code = c.l_code;
  t.l_mask = c.l_mask;
  t.od = od;
  t.ov = ov;
  t.ld = ld;
  t.lv = lv;
  t.lb = lb;
  return t;
}

void run(CountsKernel kernel, const std::uint32_t* const* probe, std::size_t shifts, const ShiftedRows& family,
         const std::uint32_t* cands, std::size_t count, std::uint32_t* diff, std::uint32_t* valid,
         std::uint32_t* both) {
  CountsTask t;
  t.probe = probe;
  t.probe_stride = family.stride();
  t.shifts = shifts;
  t.rows = family.rows();
  t.planes = family.planes();
  t.cands = cands;
  t.count = count;
  t.diff = diff;
  t.valid = valid;
  t.both = both;
  kernel(t);
}

}  // namespace

void count_first(const PreparedProbe& p, const std::uint32_t* orecs, const std::uint32_t* lrecs, std::size_t count,
                 const Kernels& kernels, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld, std::uint32_t* lv,
                 std::uint32_t* lb) {
  if (count == 1 && p.o_first.size() == p.l_first.size()) {  // one candidate: both families in one pass
    PairTask t = pair_task(p, record_rows(p, orecs, lrecs), od, ov, ld, lv, lb);
    t.o_probe = p.o_first.data();
    t.l_probe = p.l_first.data();
    t.shifts = p.o_first.size();
    kernels.pair(t);
    return;
  }
  run(kernels.counts, p.o_first.data(), p.o_first.size(), p.orientation, orecs, count, od, ov, nullptr);
  run(kernels.counts, p.l_first.data(), p.l_first.size(), p.lines, lrecs, count, ld, lv, lb);
}

void count_at(const PreparedProbe& p, const CandidateRows& c, const Kernels& kernels, const Shift* shifts, std::size_t n, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld,
              std::uint32_t* lv, std::uint32_t* lb) {
  // Every variant has the probe's geometry (rows, stride): one kernel call for all.
  const std::uint32_t* po[kMaxShifts];
  const std::uint32_t* pl[kMaxShifts];
  for (std::size_t i = 0; i < n; ++i) {
    po[i] = p.orientation_of(shifts[i].variant).at(shifts[i].dx, shifts[i].dy);
    pl[i] = p.lines_of(shifts[i].variant).at(shifts[i].dx, shifts[i].dy);
  }
  PairTask t = pair_task(p, c, od, ov, ld, lv, lb);
  t.o_probe = po;
  t.l_probe = pl;
  t.shifts = n;
  kernels.pair(t);
}

namespace {

// The resampler of one pose for one grid, made once per process (the tables do not depend on the
// probe).
const PoseResampler& resampler(int width, int height, const FeatureConfig::PoseVariant& v) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int, double, double>, std::unique_ptr<const PoseResampler>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[{width, height, v.scale, v.degrees}];
  if (!slot) slot = std::make_unique<const PoseResampler>(width, height, v.scale, v.degrees);
  return *slot;
}

}  // namespace

struct PreparedProbe::LazyPoses {
  LazyPoses(const TemplateData& t, const FeatureConfig& cfg, const ShiftSearch& search)
      : orientation(t.orientation), lines(t.lines), o_radius(search.orientation_radius()),
        l_radius(search.line_radius()) {
    for (int v = 0; v < search.pose_variants(); ++v) variants.push_back(cfg.pose_variants[v]);
    made = std::make_unique<std::once_flag[]>(variants.size());
    poses.resize(variants.size());
  }
  BitCode orientation, lines;
  int o_radius, l_radius;
  std::vector<FeatureConfig::PoseVariant> variants;
  std::unique_ptr<std::once_flag[]> made;
  std::vector<Pose> poses;
};

const PreparedProbe::Pose& PreparedProbe::pose(int variant) const {
  LazyPoses& lp = *poses;
  const auto i = static_cast<std::size_t>(variant - 1);
  std::call_once(lp.made[i], [&] {
    const FeatureConfig::PoseVariant& v = lp.variants[i];
    lp.poses[i] = Pose{ShiftedRows(lp.orientation, lp.o_radius, &resampler(lp.orientation.width, lp.orientation.height, v)),
                       ShiftedRows(lp.lines, lp.l_radius, &resampler(lp.lines.width, lp.lines.height, v))};
  });
  return lp.poses[i];
}

double score(const PreparedProbe& p, const TemplateData& candidate, const Kernels& kernels) {
  check_comparable(p, candidate);
  // A 32-cell-wide code whose height is whole blocks is row-packed already: the kernels read the
  // template's own planes. Otherwise its rows are written into records first.
  alignas(64) std::uint32_t orec[(kMaxCodePlanes + 1) * kMaxGridRows];
  alignas(64) std::uint32_t lrec[2 * kMaxGridRows];
  const auto packed = [](const BitCode& code) { return code.width == 32 && code.height % kRowsPerBlock == 0; };
  CandidateRows c{};
  if (packed(candidate.orientation) && packed(candidate.lines)) {
    const auto rows = [](const std::vector<std::uint64_t>& words) {
      return reinterpret_cast<const std::uint32_t*>(words.data());  // read by memcpy / vector loads only
    };
    c = {rows(candidate.orientation.bits), rows(candidate.orientation.mask), rows(candidate.lines.bits),
         rows(candidate.lines.mask)};
  } else {
    std::fill_n(orec, p.orientation_record(), 0u);
    std::fill_n(lrec, p.line_record(), 0u);
    write_record(candidate.orientation, orec);
    write_record(candidate.lines, lrec);
    c = record_rows(p, orec, lrec);
  }
  std::uint32_t od[kMaxShifts], ov[kMaxShifts], ld[kMaxShifts], lv[kMaxShifts], lb[kMaxShifts];
  if (p.o_first.size() == p.l_first.size()) {
    PairTask t = pair_task(p, c, od, ov, ld, lv, lb);
    t.o_probe = p.o_first.data();
    t.l_probe = p.l_first.data();
    t.shifts = p.o_first.size();
    kernels.pair(t);
  } else {  // grids of different sizes: each family's own shifts (counted from records)
    if (c.o_code != orec) {
      std::memcpy(orec, c.o_code, p.orientation.planes() * p.orientation.rows() * sizeof(std::uint32_t));
      std::memcpy(orec + p.orientation.planes() * p.orientation.rows(), c.o_mask, p.orientation.rows() * sizeof(std::uint32_t));
      std::memcpy(lrec, c.l_code, p.lines.rows() * sizeof(std::uint32_t));
      std::memcpy(lrec + p.lines.rows(), c.l_mask, p.lines.rows() * sizeof(std::uint32_t));
    }
    count_first(p, orec, lrec, 1, kernels, od, ov, ld, lv, lb);
  }
  return finish_score(p, c, kernels, ShiftSearch::FirstCounts{od, ov, ld, lv, lb});
}

}  // namespace palmvein::v1::detail::algo
