#include "identification/layout.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "features/code_match.hpp"
#include "features/feature_config.hpp"
#include "identification/kernels.hpp"
#include "identification/tuning.hpp"
#include "palmvein/error.hpp"
#include "features/bit_rows.hpp"

namespace palmvein::inline v1::detail::ident {

namespace {

std::size_t round_up_blocks(std::size_t words) {
  return (words + kWordsPerBlock - 1) / kWordsPerBlock * kWordsPerBlock;
}

// Copies `planes` planes of `src_words` words each (and a mask plane) into padded planes.
void copy_padded(const std::uint64_t* bits, const std::uint64_t* mask, std::size_t planes, std::size_t src_words,
                 std::size_t dst_words, std::uint64_t* out) {
  for (std::size_t p = 0; p < planes; ++p)
    std::memcpy(out + p * dst_words, bits + p * src_words, src_words * sizeof(std::uint64_t));
  std::memcpy(out + planes * dst_words, mask, src_words * sizeof(std::uint64_t));
}

void set_cell(std::uint64_t* plane, std::size_t i) { plane[i / 64] |= std::uint64_t{1} << (i % 64); }

// The 2x2 block rule as a table: index bits 0-3 = validity of the cells (x,y), (x+1,y), (x,y+1),
// (x+1,y+1); bits 4-7 = their code bits. Result bit 0 = coarse cell valid, bit 1 = coarse bit.
struct Block2Table {
  std::uint8_t t[256];
  constexpr Block2Table() : t{} {
    for (int i = 0; i < 256; ++i) {
      int n = 0, ones = 0, first = -1;
      for (int c = 0; c < 4; ++c)
        if ((i >> c) & 1) {
          ++n;
          const int bit = (i >> (4 + c)) & 1;
          ones += bit;
          if (first < 0) first = bit;
        }
      const bool valid = n >= IdentTuning::kCoarseMinValidCells;
      const bool bit = valid && (2 * ones > n || (2 * ones == n && first == 1));
      t[i] = static_cast<std::uint8_t>((valid ? 1 : 0) | (bit ? 2 : 0));
    }
  }
};
constexpr Block2Table kBlock2{};

}  // namespace

BitCode downsample(const BitCode& code, int f, bool allow_fast) {
  BitCode c;
  c.width = static_cast<std::uint16_t>((code.width + f - 1) / f);
  c.height = static_cast<std::uint16_t>((code.height + f - 1) / f);
  c.planes = code.planes;
  const std::size_t cw = c.words_per_plane();
  c.bits.assign(cw * c.planes, 0);
  c.mask.assign(cw, 0);
  if (allow_fast && f == 2 && code.width % 2 == 0 && code.height % 2 == 0 && code.width <= 64) {
    // Fast path (every block whole): the rule above, looked up per block.
    const std::uint64_t* mask = code.mask.data();
    std::vector<std::uint8_t> mbits(static_cast<std::size_t>(c.width) * c.height);
    for (int cy = 0; cy < c.height; ++cy) {
      const std::uint64_t m0 = get_row(mask, code.width, 2 * cy), m1 = get_row(mask, code.width, 2 * cy + 1);
      for (int cx = 0; cx < c.width; ++cx) {
        const auto m = static_cast<std::uint8_t>(((m0 >> (2 * cx)) & 3) | (((m1 >> (2 * cx)) & 3) << 2));
        const std::size_t i = static_cast<std::size_t>(cy) * c.width + static_cast<std::size_t>(cx);
        mbits[i] = m;
        if (kBlock2.t[m] & 1) set_cell(c.mask.data(), i);
      }
    }
    for (std::size_t p = 0; p < c.planes; ++p) {
      const std::uint64_t* plane = code.plane(p);
      std::uint64_t* out = c.bits.data() + p * cw;
      for (int cy = 0; cy < c.height; ++cy) {
        const std::uint64_t v0 = get_row(plane, code.width, 2 * cy), v1 = get_row(plane, code.width, 2 * cy + 1);
        for (int cx = 0; cx < c.width; ++cx) {
          const std::size_t i = static_cast<std::size_t>(cy) * c.width + static_cast<std::size_t>(cx);
          const unsigned idx = mbits[i] | static_cast<unsigned>(((v0 >> (2 * cx)) & 3) << 4) |
                               static_cast<unsigned>(((v1 >> (2 * cx)) & 3) << 6);
          if (kBlock2.t[idx] & 2) set_cell(out, i);
        }
      }
    }
    return c;
  }
  for (int cy = 0; cy < c.height; ++cy)
    for (int cx = 0; cx < c.width; ++cx) {
      int n = 0, cells = 0, first_x = -1, first_y = -1;
      for (int y = cy * f; y < std::min<int>(code.height, (cy + 1) * f); ++y)
        for (int x = cx * f; x < std::min<int>(code.width, (cx + 1) * f); ++x) {
          ++cells;
          if (!code.valid(x, y)) continue;
          if (n++ == 0) first_x = x, first_y = y;
        }
      if (n < std::min(cells, IdentTuning::kCoarseMinValidCells)) continue;
      const std::size_t i = static_cast<std::size_t>(cy) * c.width + static_cast<std::size_t>(cx);
      set_cell(c.mask.data(), i);
      for (std::size_t p = 0; p < c.planes; ++p) {
        int ones = 0;
        for (int y = cy * f; y < std::min<int>(code.height, (cy + 1) * f); ++y)
          for (int x = cx * f; x < std::min<int>(code.width, (cx + 1) * f); ++x)
            if (code.valid(x, y) && code.bit(p, x, y)) ++ones;
        const bool bit = 2 * ones > n || (2 * ones == n && code.bit(p, first_x, first_y));
        if (bit) set_cell(c.bits.data() + p * cw, i);
      }
    }
  return c;
}

Layout::Layout(const TemplateData& first, CoarseParams coarse) {
  const FeatureConfig& cfg = default_feature_config();
  const PreparedProbe p = prepare_probe(first, cfg);  // validates the codes as the matcher does
  algorithm_ = first.algorithm;
  params_ = first.params;
  o_width_ = first.orientation.width;
  o_height_ = first.orientation.height;
  o_planes_ = first.orientation.planes;
  l_width_ = first.lines.width;
  l_height_ = first.lines.height;
  if (o_planes_ < 1 || first.lines.planes != 1)
    throw InvalidArgument("identification: unsupported code geometry (orientation planes " +
                          std::to_string(o_planes_) + ", line planes " + std::to_string(first.lines.planes) + ")");
  o_radius_ = p.orientation.radius;
  l_radius_ = p.lines.radius;
  if (o_radius_ > 16 || l_radius_ > 16) throw InvalidArgument("identification: shift radius above 16 cells");
  // The shift search of detail::score_prepared: shifts with even dx, dy first (then refinement), or
  // every shift of each family when their radii differ.
  independent_ = o_radius_ != l_radius_;
  const auto all_shifts = [](int radius) {
    std::vector<std::uint32_t> v(static_cast<std::size_t>((2 * radius + 1) * (2 * radius + 1)));
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<std::uint32_t>(k);
    return v;
  };
  if (independent_) {
    o_first_ = all_shifts(o_radius_);
    l_first_ = all_shifts(l_radius_);
  } else {
    const int r = o_radius_, side = 2 * r + 1;
    for (int dy = -(r / 2) * 2; dy <= r; dy += 2)
      for (int dx = -(r / 2) * 2; dx <= r; dx += 2)
        o_first_.push_back(static_cast<std::uint32_t>((dy + r) * side + (dx + r)));
    l_first_ = o_first_;
  }
  weight_ = cfg.orientation_weight;
  // The same expressions as detail::score_prepared.
  min_o_ = static_cast<std::size_t>(cfg.min_overlap_fraction * p.orientation.width * p.orientation.height);
  min_l_ = static_cast<std::size_t>(cfg.min_overlap_fraction * p.lines.width * p.lines.height);

  orientation_ = {static_cast<std::size_t>(o_planes_), round_up_blocks(first.orientation.words_per_plane()),
                  static_cast<std::size_t>(p.orientation.shifts())};
  lines_ = {1, round_up_blocks(first.lines.words_per_plane()), static_cast<std::size_t>(p.lines.shifts())};

  const int f = coarse.factor;
  if (f < 1 || f > 8) throw InvalidArgument("identification: coarse factor must be 1..8");
  c_factor_ = f;
  c_width_ = (o_width_ + f - 1) / f;
  c_height_ = (o_height_ + f - 1) / f;
  c_radius_ = coarse.radius >= 0 ? coarse.radius : (o_radius_ + f - 1) / f;
  const std::size_t cwords = (static_cast<std::size_t>(c_width_) * c_height_ + 63) / 64;
  if (c_width_ > 64 || cwords > 8 || o_planes_ > 16 || c_radius_ > 16)
    throw InvalidArgument("identification: code too large for the coarse filter (use a larger coarse factor)");
  const auto side = static_cast<std::size_t>(2 * c_radius_ + 1);
  coarse_ = {static_cast<std::size_t>(o_planes_), cwords, side * side};
  min_c_ = static_cast<std::size_t>(cfg.min_overlap_fraction * c_width_ * c_height_);
}

void Layout::check_compatible(const TemplateData& t) const {
  if (t.algorithm != algorithm_ || !(t.params == params_))
    throw InvalidArgument("templates come from different algorithms or parameters (ids " + std::to_string(algorithm_) +
                          " and " + std::to_string(t.algorithm) + ")");
  const auto ok = [](const BitCode& c, int w, int h, int planes) {
    return c.width == w && c.height == h && c.planes == planes &&
           c.bits.size() == c.words_per_plane() * static_cast<std::size_t>(planes) && c.mask.size() == c.words_per_plane();
  };
  if (!ok(t.orientation, o_width_, o_height_, o_planes_) || !ok(t.lines, l_width_, l_height_, 1))
    throw InvalidArgument("templates have incompatible code geometry");
}

void Layout::write_orientation(const TemplateData& t, std::uint64_t* out) const {
  copy_padded(t.orientation.bits.data(), t.orientation.mask.data(), orientation_.planes,
              t.orientation.words_per_plane(), orientation_.words, out);
}

void Layout::write_lines(const TemplateData& t, std::uint64_t* out) const {
  copy_padded(t.lines.bits.data(), t.lines.mask.data(), 1, t.lines.words_per_plane(), lines_.words, out);
}

void Layout::write_coarse(const TemplateData& t, std::uint64_t* block, std::size_t lane) const {
  const BitCode c = downsample(t.orientation, c_factor_);
  const std::size_t pw = coarse_.words;
  for (std::size_t p = 0; p < coarse_.planes; ++p)
    for (std::size_t w = 0; w < pw; ++w) block[(p * pw + w) * kLanes + lane] = c.bits[p * pw + w];
  for (std::size_t w = 0; w < pw; ++w) block[(coarse_.planes * pw + w) * kLanes + lane] = c.mask[w];
}

PreparedSearchProbe Layout::prepare(const TemplateData& probe) const {
  check_compatible(probe);
  const PreparedProbe p = prepare_probe(probe, default_feature_config());
  PreparedSearchProbe out;
  out.orientation.resize(orientation_.shifts * orientation_.record_words());
  for (std::size_t k = 0; k < orientation_.shifts; ++k)
    copy_padded(p.orientation.bits.data() + k * p.orientation.words * orientation_.planes,
                p.orientation.mask.data() + k * p.orientation.words, orientation_.planes, p.orientation.words,
                orientation_.words, out.orientation.data() + k * orientation_.record_words());
  out.lines.resize(lines_.shifts * lines_.record_words());
  for (std::size_t k = 0; k < lines_.shifts; ++k)
    copy_padded(p.lines.bits.data() + k * p.lines.words, p.lines.mask.data() + k * p.lines.words, 1, p.lines.words,
                lines_.words, out.lines.data() + k * lines_.record_words());
  const ShiftedCode c = build_shifted(downsample(probe.orientation, c_factor_), c_radius_);
  const std::size_t rec = coarse_.record_words(), code_words = coarse_.planes * coarse_.words;
  out.coarse.resize(coarse_.shifts * rec);
  for (std::size_t k = 0; k < coarse_.shifts; ++k) {
    std::memcpy(out.coarse.data() + k * rec, c.bits.data() + k * code_words, code_words * sizeof(std::uint64_t));
    std::memcpy(out.coarse.data() + k * rec + code_words, c.mask.data() + k * coarse_.words,
                coarse_.words * sizeof(std::uint64_t));
  }
  return out;
}

namespace {
// Per-shift family similarities, written as detail::score_prepared writes them.
inline double orientation_sim(std::uint32_t diff, std::uint32_t valid, std::uint32_t min_valid, int planes) {
  return (valid >= min_valid && valid > 0) ? 1.0 - static_cast<double>(diff) / (static_cast<double>(valid) * planes)
                                           : 0.0;
}
inline double line_sim(std::uint32_t diff, std::uint32_t valid, std::uint32_t both, std::uint32_t min_valid) {
  const std::uint32_t a_plus_b = diff + 2 * both;  // |A| + |B| = |A xor B| + 2 |A and B|
  return (valid >= min_valid && valid > 0 && a_plus_b > 0) ? 2.0 * both / static_cast<double>(a_plus_b) : 0.0;
}
constexpr int kMaxSide = 2 * 16 + 1;
}  // namespace

double Layout::finish_score(const PreparedSearchProbe& probe, const std::uint64_t* orec, const std::uint64_t* lrec,
                            CountsKernel kernel, const FirstCounts& c) const {
  const double w = weight_;
  const auto min_o = static_cast<std::uint32_t>(min_o_), min_l = static_cast<std::uint32_t>(min_l_);
  double so = 0, sl = 0;
  if (independent_) {
    for (std::size_t i = 0; i < o_first_.size(); ++i) so = std::max(so, orientation_sim(c.od[i], c.ov[i], min_o, o_planes_));
    for (std::size_t i = 0; i < l_first_.size(); ++i) sl = std::max(sl, line_sim(c.ld[i], c.lv[i], c.lb[i], min_l));
    return w * so + (1.0 - w) * sl;
  }
  const std::size_t n = o_first_.size();
  double fused[kMaxSide * kMaxSide];
  double best = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const double o = orientation_sim(c.od[i], c.ov[i], min_o, o_planes_);
    const double l = line_sim(c.ld[i], c.lv[i], c.lb[i], min_l);
    so = std::max(so, o);
    sl = std::max(sl, l);
    fused[i] = w * o + (1.0 - w) * l;
    best = std::max(best, fused[i]);
  }
  const int r = o_radius_, side = 2 * r + 1;
  bool visited[kMaxSide * kMaxSide] = {};
  for (std::uint32_t k : o_first_) visited[k] = true;
  std::uint32_t refine[kMaxSide * kMaxSide];
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (fused[i] != best) continue;
    const int cy = static_cast<int>(o_first_[i]) / side - r, cx = static_cast<int>(o_first_[i]) % side - r;
    for (int dy = cy - 1; dy <= cy + 1; ++dy)
      for (int dx = cx - 1; dx <= cx + 1; ++dx) {
        if (dx < -r || dx > r || dy < -r || dy > r) continue;
        const auto k = static_cast<std::uint32_t>((dy + r) * side + (dx + r));
        if (!visited[k]) visited[k] = true, refine[m++] = k;
      }
  }
  if (m > 0) {
    std::uint32_t od[kMaxSide * kMaxSide], ov[kMaxSide * kMaxSide], ld[kMaxSide * kMaxSide],
        lv[kMaxSide * kMaxSide], lb[kMaxSide * kMaxSide];
    CountsTask t;
    t.probe = probe.orientation.data();
    t.shifts = m;
    t.shift_list = refine;
    t.words = orientation_.words;
    t.planes = orientation_.planes;
    t.cands = orec;
    t.count = 1;
    t.diff = od;
    t.valid = ov;
    kernel(t);
    t.probe = probe.lines.data();
    t.words = lines_.words;
    t.planes = lines_.planes;
    t.cands = lrec;
    t.diff = ld;
    t.valid = lv;
    t.both = lb;
    kernel(t);
    for (std::size_t i = 0; i < m; ++i) {
      so = std::max(so, orientation_sim(od[i], ov[i], min_o, o_planes_));
      sl = std::max(sl, line_sim(ld[i], lv[i], lb[i], min_l));
    }
  }
  return w * so + (1.0 - w) * sl;
}

}  // namespace palmvein::v1::detail::ident
