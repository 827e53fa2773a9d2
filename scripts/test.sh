#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds palmvein, runs the whole test suite,
# then a short libFuzzer run and the suite again under AddressSanitizer/LeakSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALMVEIN_WERROR=ON
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)"
if [ "${PALMVEIN_QUICK_TEST:-0}" != "1" ]; then
  bash scripts/fuzz.sh "${PALMVEIN_FUZZ_SECONDS:-15}"
  bash scripts/sanitize.sh
fi
