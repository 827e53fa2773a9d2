#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds palmvein with -DPALMVEIN_BUILD_DRIVERS=OFF (no libusb/libuvc code: the core, the gallery, the
# internal tools, their tests) and runs the tests that configuration has (issue #10: build options
# that exist work). The tool and the demo need the drivers and are left out with a configure message.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-no-drivers
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALMVEIN_WERROR=ON -DPALMVEIN_BUILD_DRIVERS=OFF \
      -DPALMVEIN_BUILD_BENCHMARKS=OFF -DPALMVEIN_BUILD_PYTHON=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"
if [ -e "$build/apps/palmvein" ] || [ -e "$build/drivers" ]; then
  echo "no-drivers build: found a drivers or apps build folder; the option did not take effect" >&2
  exit 1
fi
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)"
