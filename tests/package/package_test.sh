#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest debian_packages: `cpack -G DEB` on the build tree into a scratch folder, the control fields of
# each .deb checked (names, version, dependencies), the packages unpacked with `dpkg-deb -x` into a
# scratch root (nothing is installed on the system), and a consumer built against that root alone,
# with find_package (tests/consumer) and with pkg-config (the README program, then checked on captures
# of the unpacked tool as readme_example does).
# Usage: package_test.sh BUILD_DIR SOURCE_DIR CXX VERSION RUNTIME_PACKAGE EXPECT_PYTHON(0/1)
set -euo pipefail
build_dir=$1; source_dir=$2; cxx=$3; version=$4; runtime=$5; expect_python=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack -G DEB failed"; }
expected=("$runtime" libpalmvein-dev palmvein-tools)
[ "$expect_python" = 1 ] && expected+=(python3-palmvein)
mapfile -t debs < <(find "$work/out" -maxdepth 1 -name '*.deb' | sort)
[ "${#debs[@]}" -eq "${#expected[@]}" ] ||
  fail "cpack made ${#debs[@]} packages, not ${#expected[@]}: $(basename -a "${debs[@]}" | tr '\n' ' ')"

field() { dpkg-deb -f "$1" "$2"; }
declare -A deb_of
for deb in "${debs[@]}"; do
  name=$(field "$deb" Package)
  deb_of[$name]=$deb
  [ "$(field "$deb" Version)" = "$version-1" ] || fail "$name: Version $(field "$deb" Version), not $version-1"
  [ "$(field "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "$name: Architecture $(field "$deb" Architecture)"
  [ -n "$(field "$deb" Maintainer)" ] || fail "$name: no Maintainer"
  [ -n "$(field "$deb" Description)" ] || fail "$name: no Description"
done
for name in "${expected[@]}"; do
  [ -n "${deb_of[$name]:-}" ] || fail "no package $name (made: ${!deb_of[*]})"
done
# Depends, as an `apt install` would resolve them: the -dev package and the tools need the runtime of
# the same version; the -dev package brings what find_package(palmvein) finds; the tools' shared
# libraries come from dpkg-shlibdeps.
has_dep() { # PACKAGE DEPENDENCY-REGEX
  field "${deb_of[$1]}" Depends | tr ',' '\n' | sed 's/^ *//' | grep -Eq "^($2)( |$)" ||
    fail "$1 does not depend on $2 (Depends: $(field "${deb_of[$1]}" Depends))"
}
for name in libpalmvein-dev palmvein-tools; do
  field "${deb_of[$name]}" Depends | grep -Eq "(^|, )$runtime \(= $version(-1)?\)" ||
    fail "$name: no Depends on $runtime (= $version): $(field "${deb_of[$name]}" Depends)"
done
for dep in libopencv-dev libeigen3-dev libpng-dev libjpeg-dev zlib1g-dev; do has_dep libpalmvein-dev "$dep"; done
# The USB, SQLite and libsodium libraries are needed by whichever package holds the code that links
# them: the tools in a static build, the runtime's shared libraries in a shared one.
holder=palmvein-tools
if dpkg-deb -c "${deb_of[$runtime]}" | grep '\.so\.[0-9]' >/dev/null; then holder=$runtime; fi  # no -q: an early exit breaks the pipe
for dep in libc6 'libopencv-core[0-9.a-z]*'; do has_dep palmvein-tools "$dep"; done
for dep in 'libusb-1\.0-0' 'libsqlite3-0' 'libsodium[0-9]+'; do has_dep "$holder" "$dep"; done

# Each file in one package only (dpkg refuses to install a file owned by another package), and each
# kind of file in the package it belongs to.
for deb in "${debs[@]}"; do
  dpkg-deb -c "$deb" | awk -v p="$(field "$deb" Package)" '$1 !~ /^d/ {print $6 "\t" p}'
done | sort >"$work/files"
dupes=$(cut -f1 "$work/files" | uniq -d)
[ -z "$dupes" ] || fail "files in more than one package: $dupes"
# Every installed file is in a package: an install() without a COMPONENT would be left out silently.
cmake --install "$build_dir" --prefix "$work/all/usr" >/dev/null
(cd "$work/all" && find . \( -type f -o -type l \) | sort) >"$work/installed"
missing=$(cut -f1 "$work/files" | sort | comm -13 - "$work/installed")
[ -z "$missing" ] || fail "installed but in no package (install() without COMPONENT?): $missing"
owner() { awk -F'\t' -v f="./usr/$1" '$1 ~ f {print $2}' "$work/files" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
[ "$(owner 'include/palmvein/')" = libpalmvein-dev ] || fail "headers in: $(owner 'include/palmvein/')"
[ "$(owner 'lib/.*pkgconfig/')" = libpalmvein-dev ] || fail ".pc files in: $(owner 'lib/.*pkgconfig/')"
[ "$(owner 'lib/.*cmake/palmvein/')" = libpalmvein-dev ] || fail "CMake config in: $(owner 'lib/.*cmake/palmvein/')"
[ "$(owner 'bin/')" = palmvein-tools ] || fail "programs in: $(owner 'bin/')"
[ "$(owner 'share/man/man1/')" = palmvein-tools ] || fail "man pages in: $(owner 'share/man/man1/')"
[ "$(owner 'lib/udev/rules.d/')" = palmvein-tools ] || fail "udev rules in: $(owner 'lib/udev/rules.d/')"
[ "$(owner 'share/palmvein/models/')" = "$runtime" ] || fail "calibration in: $(owner 'share/palmvein/models/')"
if grep -q '\.so\.[0-9]' "$work/files"; then  # a shared build: the libraries in the runtime package
  [ "$(owner 'lib/.*\.so\.[0-9]')" = "$runtime" ] || fail "shared libraries in: $(owner 'lib/.*\.so\.[0-9]')"
  dpkg-deb --ctrl-tarfile "${deb_of[$runtime]}" | tar -t | grep -c shlibs >/dev/null || fail "$runtime has no shlibs file"
fi

# Unpack into a scratch root and use nothing else of palmvein.
root=$work/root
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
cmake -S "$source_dir/tests/consumer" -B "$work/consumer" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log"; fail "tests/consumer does not configure against the unpacked packages"; }
grep -q "palmvein_DIR:PATH=$root/usr/lib" "$work/consumer/CMakeCache.txt" ||
  fail "find_package(palmvein) did not find the unpacked package: $(grep palmvein_DIR "$work/consumer/CMakeCache.txt")"
cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "tests/consumer does not build"; }
libdirs=$(find "$root/usr/lib" -name 'libpalmvein*.so*' -printf '%h\n' | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH=${libdirs}${LD_LIBRARY_PATH:-}  # for a shared build
"$work/consumer/consumer" >/dev/null || fail "the consumer built against the packages failed"

pcdir=$(dirname "$(find "$root/usr/lib" -name palmvein-core.pc | head -1)")
# shellcheck disable=SC2046  # word splitting of pkg-config output is intended
"$cxx" -std=c++20 -o "$work/compare_palms" "$source_dir/docs/examples/compare_palms.cpp" \
  $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs palmvein-core) || fail "the README program does not build with the packaged .pc"
# The README's checks (tests/readme_example_test.sh) with the packaged tool and that program.
bash "$source_dir/tests/readme_example_test.sh" "$work/compare_palms" "$root/usr/bin/palmvein" ||
  fail "the README program or the packaged palmvein failed (tests/readme_example_test.sh)"

if [ "$expect_python" = 1 ]; then
  init=$(find "$root/usr/lib" -path '*/dist-packages/palmvein/__init__.py' | head -1)
  [ -n "$init" ] || fail "python3-palmvein has no palmvein/__init__.py"
  (cd "$work" && PYTHONPATH=$(dirname "$(dirname "$init")") "${PYTHON3:-/usr/bin/python3}" -c \
    "import palmvein; assert palmvein.__file__.startswith('$root'), palmvein.__file__") ||
    fail "the packaged Python module does not import"
fi
echo "debian packages ok: $(basename -a "${debs[@]}" | tr '\n' ' ')"
