#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest: installs the build tree into a temporary prefix and builds tests/consumer against it.
set -euo pipefail
build_dir="$1"; source_dir="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
# The Python package, where it was built, imports from the install prefix (not the build tree).
python_init=$(find "$work/prefix" -path '*/dist-packages/palmvein/__init__.py' | head -n 1)
if [ -n "$python_init" ]; then
  (cd "$work" && PYTHONPATH="$(dirname "$(dirname "$python_init")")" "${PYTHON3:-/usr/bin/python3}" -c \
    "import palmvein, palmvein.cluster, sys; assert palmvein.__file__.startswith('$work/prefix'), palmvein.__file__; print('python package', palmvein.__version__)")
fi
