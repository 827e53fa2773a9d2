// SPDX-License-Identifier: Apache-2.0
// Runtime selection of the popcount kernels (kernels.hpp).
#include <cstring>
#include <string>

#include "algorithm/kernels.hpp"
#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail::algo {

std::string_view to_string(Isa isa) noexcept {
  switch (isa) {
    case Isa::Portable: return "portable";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512-vpopcntdq";
  }
  return "unknown";
}

namespace {

bool cpu_runs(Isa isa) noexcept {
  switch (isa) {
    case Isa::Portable: return true;
#if defined(__x86_64__) || defined(__i386__)
    case Isa::Avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case Isa::Avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vpopcntdq");
#else
    default: return false;
#endif
  }
  return false;
}

}  // namespace

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Portable})
    if (cpu_runs(isa)) out.push_back(isa);
  return out;
}

Isa best_isa() {
  static const Isa best = available_isas().front();
  return best;
}

CountsKernel kernel_for(Isa isa) {
  if (!cpu_runs(isa))
    throw InvalidArgument("identification: this CPU cannot run the " + std::string(to_string(isa)) + " kernel");
  switch (isa) {
    case Isa::Portable: return counts_portable;
#if defined(__x86_64__) || defined(__i386__)
    case Isa::Avx2: return counts_avx2;
    case Isa::Avx512: return counts_avx512;
#endif
    default: break;
  }
  return counts_portable;
}

Kernels kernels_for(Isa isa) {
  Kernels k;
  k.counts = kernel_for(isa);
  switch (isa) {
#if defined(__x86_64__) || defined(__i386__)
    case Isa::Avx2: k.pair = pair_avx2, k.resample = resample_avx2; break;
    case Isa::Avx512: k.pair = pair_avx512, k.resample = resample_avx2; break;  // no wider resampler
#endif
    default: k.pair = pair_portable, k.resample = resample_portable; break;
  }
  return k;
}

const Kernels& best_kernels() {
  static const Kernels kernels = kernels_for(best_isa());
  return kernels;
}

void pair_by_counts(const PairTask& p, CountsKernel counts) {
  // CountsTask reads records (code planes then the mask, 64-byte aligned): copy the candidate's
  // planes into two.
  alignas(64) std::uint32_t orec[(kMaxRecordPlanes + 1) * kMaxRecordRows];
  alignas(64) std::uint32_t lrec[2 * kMaxRecordRows];
  if (p.o_planes > kMaxRecordPlanes || p.o_rows > kMaxRecordRows || p.l_rows > kMaxRecordRows)
    throw InvalidArgument("identification: code too large for the pair kernel");
  std::memcpy(orec, p.o_code, p.o_planes * p.o_rows * sizeof(std::uint32_t));
  std::memcpy(orec + p.o_planes * p.o_rows, p.o_mask, p.o_rows * sizeof(std::uint32_t));
  std::memcpy(lrec, p.l_code, p.l_rows * sizeof(std::uint32_t));
  std::memcpy(lrec + p.l_rows, p.l_mask, p.l_rows * sizeof(std::uint32_t));
  CountsTask t;
  t.probe = p.o_probe;
  t.probe_stride = p.o_stride;
  t.shifts = p.shifts;
  t.rows = p.o_rows;
  t.planes = p.o_planes;
  t.cands = orec;
  t.count = 1;
  t.diff = p.od;
  t.valid = p.ov;
  counts(t);
  t.probe = p.l_probe;
  t.probe_stride = p.l_stride;
  t.rows = p.l_rows;
  t.planes = 1;
  t.cands = lrec;
  t.diff = p.ld;
  t.valid = p.lv;
  t.both = p.lb;
  counts(t);
}

CoarseKernel coarse_kernel_for(Isa isa) {
  if (!cpu_runs(isa))
    throw InvalidArgument("identification: this CPU cannot run the " + std::string(to_string(isa)) + " kernel");
  switch (isa) {
    case Isa::Portable: return coarse_portable;
#if defined(__x86_64__) || defined(__i386__)
    case Isa::Avx2: return coarse_avx2;
    case Isa::Avx512: return coarse_avx512;
#endif
    default: break;
  }
  return coarse_portable;
}

}  // namespace palmvein::v1::detail::algo
