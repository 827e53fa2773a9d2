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
  const ShiftGrid& of = p.search.first_orientation();
  const ShiftGrid& lf = p.search.first_lines();
  p.o_first.resize(of.size());
  p.l_first.resize(lf.size());
  of.for_each([&](std::size_t i, const Shift& s) { p.o_first[i] = p.orientation.at(s.dx, s.dy); });
  lf.for_each([&](std::size_t i, const Shift& s) { p.l_first[i] = p.lines.at(s.dx, s.dy); });
  return p;
}

namespace {

// What a probe requires of a candidate: the same algorithm, parameters and geometry.
void check_comparable(std::uint16_t algorithm, const AlgorithmParams& params, int o_width, int o_height, int o_planes,
                      int l_width, int l_height, const TemplateData& c) {
  if (c.algorithm != algorithm)
    throw InvalidArgument("templates of algorithms " + std::to_string(algorithm) + " and " +
                          std::to_string(c.algorithm) + " cannot be compared: re-enrol the older one with this library");
  if (c.params.roi_size != params.roi_size || c.params.orientations != params.orientations)
    throw InvalidArgument("templates come from different parameters of algorithm " + std::to_string(algorithm) +
                          " (ROI " + std::to_string(params.roi_size) + "/" + std::to_string(c.params.roi_size) +
                          ", orientations " + std::to_string(params.orientations) + "/" +
                          std::to_string(c.params.orientations) + ")");
  const auto same = [](const BitCode& code, int w, int h, int planes) {
    return code.width == w && code.height == h && code.planes == planes &&
           code.bits.size() == code.words_per_plane() * static_cast<std::size_t>(planes) &&
           code.mask.size() == code.words_per_plane();
  };
  if (!same(c.orientation, o_width, o_height, o_planes) || !same(c.lines, l_width, l_height, 1))
    throw InvalidArgument("templates have incompatible code geometry");
}

}  // namespace

void check_comparable(const PreparedProbe& p, const TemplateData& c) {
  check_comparable(p.algorithm, p.params, p.o_width, p.o_height, p.o_planes, p.l_width, p.l_height, c);
}

namespace {

// The shape of a probe's rows as the kernels read them: every translate and pose variant of one
// probe has the same.
struct ProbeShape {
  std::size_t o_stride = 0, l_stride = 0;  // rows from one plane to the next
  std::size_t o_rows = 0, l_rows = 0;      // rows counted per plane
  std::size_t o_planes = 0;                // orientation code planes
};

ProbeShape shape_of(const PreparedProbe& p) {
  return {p.orientation.stride(), p.lines.stride(), p.orientation.rows(), p.lines.rows(), p.orientation.planes()};
}

// A pair task for one candidate, without its shifts.
PairTask pair_task(const ProbeShape& s, const CandidateRows& c, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld,
                   std::uint32_t* lv, std::uint32_t* lb) {
  PairTask t;
  t.o_stride = s.o_stride;
  t.l_stride = s.l_stride;
  t.o_rows = s.o_rows;
  t.l_rows = s.l_rows;
  t.o_planes = s.o_planes;
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

// The rows of a prepared probe at a list of shifts.
struct PreparedRows {
  const PreparedProbe& p;
  void at(const Shift* shifts, std::size_t n, const std::uint32_t** po, const std::uint32_t** pl) const {
    int variant = -1;  // the rows of each run of shifts of one variant looked up once
    const ShiftedRows *o = nullptr, *l = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      if (shifts[i].variant != variant) {
        variant = shifts[i].variant;
        o = &p.orientation_of(variant);
        l = &p.lines_of(variant);
      }
      po[i] = o->at(shifts[i].dx, shifts[i].dy);
      pl[i] = l->at(shifts[i].dx, shifts[i].dy);
    }
  }
};

// Both families of one candidate at n shifts of the probe: one kernel call for all (every variant
// has the probe's shape).
template <class ProbeRows>
void count_pair(ProbeRows& rows, const ProbeShape& shape, const CandidateRows& c, const Kernels& kernels,
                const Shift* shifts, std::size_t n, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld,
                std::uint32_t* lv, std::uint32_t* lb) {
  const std::uint32_t* po[kMaxShifts];
  const std::uint32_t* pl[kMaxShifts];
  rows.at(shifts, n, po, pl);
  PairTask t = pair_task(shape, c, od, ov, ld, lv, lb);
  t.o_probe = po;
  t.l_probe = pl;
  t.shifts = n;
  kernels.pair(t);
}

// The score of one candidate whose first-shift counts are in hand: ShiftSearch's rule, its further
// shifts counted by the pair kernel on `rows`.
template <class ProbeRows>
double finish(const ShiftSearch& search, ProbeRows& rows, const ProbeShape& shape, const CandidateRows& c,
              const Kernels& kernels, const ShiftSearch::FirstCounts& first) {
  return search.score(first, [&](const Shift* shifts, std::size_t n, std::uint32_t* od, std::uint32_t* ov,
                                 std::uint32_t* ld, std::uint32_t* lv, std::uint32_t* lb) {
    count_pair(rows, shape, c, kernels, shifts, n, od, ov, ld, lv, lb);
  });
}

// A candidate's rows as the pair kernel reads them. A 32-cell-wide code whose height is whole
// blocks is row-packed already: the kernels read the template's own planes. Otherwise its rows are
// written into records here.
class CandidateCopy {
 public:
  CandidateCopy(const TemplateData& candidate, const ProbeShape& shape) {
    const auto packed = [](const BitCode& code) { return code.width == 32 && code.height % kRowsPerBlock == 0; };
    if (packed(candidate.orientation) && packed(candidate.lines)) {
      const auto rows = [](const std::vector<std::uint64_t>& words) {
        return reinterpret_cast<const std::uint32_t*>(words.data());  // read by memcpy / vector loads only
      };
      rows_ = {rows(candidate.orientation.bits), rows(candidate.orientation.mask), rows(candidate.lines.bits),
               rows(candidate.lines.mask)};
      return;
    }
    std::fill_n(orec_, (shape.o_planes + 1) * shape.o_rows, 0u);
    std::fill_n(lrec_, 2 * shape.l_rows, 0u);
    write_record(candidate.orientation, orec_);
    write_record(candidate.lines, lrec_);
    rows_ = {orec_, orec_ + shape.o_planes * shape.o_rows, lrec_, lrec_ + shape.l_rows};
  }
  CandidateCopy(const CandidateCopy&) = delete;
  CandidateCopy& operator=(const CandidateCopy&) = delete;

  const CandidateRows& rows() const noexcept { return rows_; }
  // The candidate as two records (count_first reads records), copied when it was read in place.
  void as_records(const ProbeShape& shape, const std::uint32_t** orec, const std::uint32_t** lrec) {
    if (rows_.o_code != orec_) {
      std::memcpy(orec_, rows_.o_code, shape.o_planes * shape.o_rows * sizeof(std::uint32_t));
      std::memcpy(orec_ + shape.o_planes * shape.o_rows, rows_.o_mask, shape.o_rows * sizeof(std::uint32_t));
      std::memcpy(lrec_, rows_.l_code, shape.l_rows * sizeof(std::uint32_t));
      std::memcpy(lrec_ + shape.l_rows, rows_.l_mask, shape.l_rows * sizeof(std::uint32_t));
    }
    *orec = orec_;
    *lrec = lrec_;
  }

 private:
  alignas(64) std::uint32_t orec_[(kMaxCodePlanes + 1) * kMaxGridRows];
  alignas(64) std::uint32_t lrec_[2 * kMaxGridRows];
  CandidateRows rows_{};
};

}  // namespace

void count_first(const PreparedProbe& p, const std::uint32_t* orecs, const std::uint32_t* lrecs, std::size_t count,
                 const Kernels& kernels, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld, std::uint32_t* lv,
                 std::uint32_t* lb) {
  if (count == 1 && p.o_first.size() == p.l_first.size()) {  // one candidate: both families in one pass
    PairTask t = pair_task(shape_of(p), record_rows(p, orecs, lrecs), od, ov, ld, lv, lb);
    t.o_probe = p.o_first.data();
    t.l_probe = p.l_first.data();
    t.shifts = p.o_first.size();
    kernels.pair(t);
    return;
  }
  run(kernels.counts, p.o_first.data(), p.o_first.size(), p.orientation, orecs, count, od, ov, nullptr);
  run(kernels.counts, p.l_first.data(), p.l_first.size(), p.lines, lrecs, count, ld, lv, lb);
}

void count_at(const PreparedProbe& p, const CandidateRows& c, const Kernels& kernels, const Shift* shifts, std::size_t n,
              std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld, std::uint32_t* lv, std::uint32_t* lb) {
  const PreparedRows rows{p};
  count_pair(rows, shape_of(p), c, kernels, shifts, n, od, ov, ld, lv, lb);
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
  const ProbeShape shape = shape_of(p);
  CandidateCopy c(candidate, shape);
  std::uint32_t od[kMaxShifts], ov[kMaxShifts], ld[kMaxShifts], lv[kMaxShifts], lb[kMaxShifts];
  if (p.o_first.size() == p.l_first.size()) {
    PairTask t = pair_task(shape, c.rows(), od, ov, ld, lv, lb);
    t.o_probe = p.o_first.data();
    t.l_probe = p.l_first.data();
    t.shifts = p.o_first.size();
    kernels.pair(t);
  } else {  // grids of different sizes: each family's own shifts (counted from records)
    const std::uint32_t *orec = nullptr, *lrec = nullptr;
    c.as_records(shape, &orec, &lrec);
    count_first(p, orec, lrec, 1, kernels, od, ov, ld, lv, lb);
  }
  const PreparedRows rows{p};
  return finish(p.search, rows, shape, c.rows(), kernels, ShiftSearch::FirstCounts{od, ov, ld, lv, lb});
}

namespace {

// The probe of one comparison, its rows made on demand: the rows of the probe and of each pose
// variant when first asked for (the resampling is PoseResampler's, as in ShiftedRows), and each
// (variant, dx) translate, laid out as a ShiftedRows column (planes `stride` rows apart with `pad`
// zero rows above and below), when a shift first needs it. The first shifts take every second dx,
// the refinement a few more, the pose search one dx per variant and two more for the best.
// All of it lives in a per-thread buffer with one place for each variant's rows and each column:
// only the rows are written, so the frames stay zero from one comparison to the next while the
// geometry stays the same (a new geometry zeroes the buffer once).
class OneOffRows {
 public:
  OneOffRows(const TemplateData& t, const ShiftSearch& search, const FeatureConfig& cfg)
      : t_(t), cfg_(cfg), radius_(search.orientation_radius()), side_(2 * radius_ + 1),
        variants_(search.pose_variants()), o_height_(static_cast<std::size_t>(t.orientation.height)),
        l_height_(static_cast<std::size_t>(t.lines.height)), o_cells_(row_cells(t.orientation.width)),
        l_cells_(row_cells(t.lines.width)) {
    const auto pad = static_cast<std::size_t>(radius_);
    shape_.o_rows = record_rows(t.orientation.height);
    shape_.l_rows = record_rows(t.lines.height);
    shape_.o_stride = shape_.o_rows + 2 * pad;
    shape_.l_stride = shape_.l_rows + 2 * pad;
    shape_.o_planes = t.orientation.planes;
    o_column_ = (shape_.o_planes + 1) * shape_.o_stride;
    column_ = o_column_ + 2 * shape_.l_stride;
    variant_rows_ = (shape_.o_planes + 1) * o_height_ + 2 * l_height_;
    const auto layouts = static_cast<std::size_t>(1 + variants_);
    columns_at_ = variant_rows_ * layouts;
    const Layout layout{shape_.o_planes, o_height_, l_height_, pad, layouts};
    if (!(scratch_.layout == layout)) {  // zero frames for this geometry
      scratch_.rows.clear();
      scratch_.rows.resize(columns_at_ + column_ * layouts * static_cast<std::size_t>(side_));
      scratch_.layout = layout;
    }
    // A new comparison: nothing made yet (stamps of an older one no longer count).
    if (++scratch_.comparison == 0) {
      std::fill(std::begin(scratch_.made), std::end(scratch_.made), 0u);
      scratch_.comparison = 1;
    }
  }
  OneOffRows(const OneOffRows&) = delete;
  OneOffRows& operator=(const OneOffRows&) = delete;

  const ProbeShape& shape() const noexcept { return shape_; }

  // Row 0 of plane 0 of each family at each shift.
  void at(const Shift* shifts, std::size_t n, const std::uint32_t** po, const std::uint32_t** pl) {
    const auto pad = static_cast<std::ptrdiff_t>(radius_);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t* c = column(shifts[i].variant, shifts[i].dx);
      po[i] = c + pad - shifts[i].dy;
      pl[i] = c + o_column_ + pad - shifts[i].dy;
    }
  }

 private:
  // What the frames of the buffer were zeroed for.
  struct Layout {
    std::size_t o_planes = 0, o_height = 0, l_height = 0, pad = 0, variants = 0;
    bool operator==(const Layout&) const = default;
  };
  static constexpr std::size_t kSlots = (1 + FeatureConfig::kMaxPoseVariants) * (2 * kMaxShiftRadius + 1);
  struct Scratch {
    AlignedRows rows;  // each variant's rows, then the columns, column (v, dx) at slot v * side + dx + radius
    Layout layout;
    std::uint32_t comparison = 0;                 // counts comparisons on this thread
    std::uint32_t made[kSlots + 1 + FeatureConfig::kMaxPoseVariants] = {};  // comparison that made a slot
    struct PoseKey {
      int o_width = 0, o_height = 0, l_width = 0, l_height = 0;
      double scale = 0, degrees = 0;
      bool operator==(const PoseKey&) const = default;
    };
    struct Poses {
      PoseKey key;
      const PoseResampler *o = nullptr, *l = nullptr;
    };
    Poses poses[FeatureConfig::kMaxPoseVariants];  // the last resamplers of each pose variant
  };
  static Scratch& thread_scratch() {
    thread_local Scratch scratch;
    return scratch;
  }
  bool make(std::size_t slot) {
    if (scratch_.made[slot] == scratch_.comparison) return false;
    scratch_.made[slot] = scratch_.comparison;
    return true;
  }

  // The rows of variant v: (planes + 1) orientation planes of o_height_ rows, then 2 line planes.
  const std::uint32_t* rows(int v) {
    std::uint32_t* out = scratch_.rows.data() + static_cast<std::size_t>(v) * variant_rows_;
    if (!make(kSlots + static_cast<std::size_t>(v))) return out;
    const std::size_t lines = (shape_.o_planes + 1) * o_height_;
    if (v == 0) {
      for (std::size_t p = 0; p <= shape_.o_planes; ++p) plane_rows(t_.orientation, p, out + p * o_height_);
      for (std::size_t p = 0; p < 2; ++p) plane_rows(t_.lines, p, out + lines + p * l_height_);
      return out;
    }
    const std::uint32_t* in = rows(0);
    // The resamplers of this pose for both grids, from the process-wide cache once per thread.
    const FeatureConfig::PoseVariant& pose = cfg_.pose_variants[v - 1];
    Scratch::Poses& cached = scratch_.poses[v - 1];
    const Scratch::PoseKey key{t_.orientation.width, t_.orientation.height, t_.lines.width, t_.lines.height,
                               pose.scale, pose.degrees};
    if (!cached.o || !(cached.key == key)) {
      cached.o = &resampler(key.o_width, key.o_height, pose);
      cached.l = &resampler(key.l_width, key.l_height, pose);
      cached.key = key;
    }
    cached.o->apply(in, out, shape_.o_planes + 1);
    cached.l->apply(in + lines, out + lines, 2);
    return out;
  }

  const std::uint32_t* column(int v, int dx) {
    const auto slot = static_cast<std::size_t>(v * side_ + dx + radius_);
    std::uint32_t* out = scratch_.rows.data() + columns_at_ + slot * column_;
    if (!make(slot)) return out;
    const std::uint32_t* in = rows(v);
    const auto pad = static_cast<std::size_t>(radius_);
    std::uint32_t* plane = out;
    const auto planes = [&](std::size_t count, std::size_t height, std::size_t stride, std::uint32_t cells) {
      for (std::size_t p = 0; p < count; ++p, in += height, plane += stride)
        translate_rows(in, static_cast<int>(height), cells, dx, plane + pad);
    };
    planes(shape_.o_planes + 1, o_height_, shape_.o_stride, o_cells_);
    planes(2, l_height_, shape_.l_stride, l_cells_);
    return out;
  }

  Scratch& scratch_ = thread_scratch();
  const TemplateData& t_;
  const FeatureConfig& cfg_;
  int radius_, side_, variants_;
  std::size_t o_height_, l_height_;
  std::uint32_t o_cells_, l_cells_;
  ProbeShape shape_;
  std::size_t o_column_ = 0, column_ = 0, variant_rows_ = 0, columns_at_ = 0;
};

}  // namespace

double score_once(const TemplateData& probe, const TemplateData& candidate, const Kernels& kernels,
                  const FeatureConfig& cfg) {
  check_row_packable(probe.orientation, "orientation");
  check_row_packable(probe.lines, "line");
  if (probe.lines.planes != 1) throw InvalidArgument("matcher: the line code must have 1 plane");
  const ShiftSearch search(probe, cfg);
  // Grids of different sizes (each family its own shifts, counted from records): the full probe.
  if (search.independent()) return score(prepare_probe(probe, cfg), candidate, kernels);
  check_comparable(probe.algorithm, probe.params, probe.orientation.width, probe.orientation.height,
                   probe.orientation.planes, probe.lines.width, probe.lines.height, candidate);
  OneOffRows rows(probe, search, cfg);
  CandidateCopy c(candidate, rows.shape());
  const ShiftGrid& grid = search.first_orientation();
  Shift first[kMaxShifts];
  grid.for_each([&](std::size_t i, const Shift& s) { first[i] = s; });
  std::uint32_t od[kMaxShifts], ov[kMaxShifts], ld[kMaxShifts], lv[kMaxShifts], lb[kMaxShifts];
  count_pair(rows, rows.shape(), c.rows(), kernels, first, grid.size(), od, ov, ld, lv, lb);
  return finish(search, rows, rows.shape(), c.rows(), kernels, ShiftSearch::FirstCounts{od, ov, ld, lv, lb});
}

}  // namespace palmvein::v1::detail::algo
