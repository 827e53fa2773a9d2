#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds palmvein with AddressSanitizer + UBSan (LeakSanitizer included) and runs the test suite:
# device faults, corrupt templates and killed enrollments must leak nothing and touch no freed memory.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPALMVEIN_SANITIZE=ON \
      -DPALMVEIN_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:verify_asan_link_order=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)"
