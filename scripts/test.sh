#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs the dependencies, builds palmvein, runs the whole test suite,
# then a short libFuzzer run, the suite again under AddressSanitizer/LeakSanitizer, and the threaded
# tests under ThreadSanitizer, the suite against shared libraries (scripts/shared.sh), and the
# build without the sensor drivers (scripts/no-drivers.sh). On a fresh clone of a 2-core machine the
# whole run took 25 minutes (2026-12-03; 31 before the ASan build moved to -Og -g1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALMVEIN_WERROR=ON
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)"
if [ "${PALMVEIN_QUICK_TEST:-0}" != "1" ]; then
  bash scripts/fuzz.sh "${PALMVEIN_FUZZ_SECONDS:-15}"
  bash scripts/sanitize.sh
  bash scripts/tsan.sh
  bash scripts/shared.sh
  bash scripts/no-drivers.sh
fi
