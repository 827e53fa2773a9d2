// Runtime selection of the popcount kernels (kernels.hpp).
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

CountsKernel best_kernel() {
  static const CountsKernel kernel = kernel_for(best_isa());
  return kernel;
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
