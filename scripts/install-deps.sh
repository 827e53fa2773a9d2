#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package palmvein needs to build, test and run.
# Nothing else is downloaded: the project builds from these packages alone.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libopencv-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev
  libeigen3-dev
  libusb-1.0-0-dev libuvc-dev umockdev libumockdev-dev
  libsqlite3-dev libsodium-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libfaiss-dev  # optional peer: benchmarks/bench_coarse.cpp times FAISS IndexBinaryFlat beside the coarse pass
  libcli11-dev nlohmann-json3-dev
  python3 python3-dev pybind11-dev python3-numpy python3-pytest python3-distributed python3-dask
  xvfb xauth
  help2man doxygen
  file dpkg-dev  # cpack -G DEB: file(1) finds the ELF files, dpkg-shlibdeps their library dependencies
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
