#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-makes models/score_calibration.csv (the score <-> FMR table compiled into the library) with the
# current recognition algorithm: runs `palmvein eval` on the development sets and pools their
# impostor scores (scripts/calibration_table.py). Re-run it whenever the extractor or matcher changes,
# then rebuild (CMake re-reads the CSV) and commit the CSV together with the algorithm change.
#
#   scripts/make-calibration.sh [PALMVEIN_BINARY]
#
# PALMVEIN_BINARY defaults to build/apps/palmvein; the data comes from $PALMVEIN_DATA_DIR
# (default: ../shared/data next to the repository).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
palmvein=${1:-$repo/build/apps/palmvein}
data=${PALMVEIN_DATA_DIR:-$repo/../shared/data}
sets=(polyu-nir-roi casia850-roi casia940-fullhand)

[[ -x $palmvein ]] || { echo "make-calibration: no palmvein binary at $palmvein (build it, or pass its path)" >&2; exit 2; }
for s in "${sets[@]}"; do
  [[ -f $data/$s/MANIFEST.csv ]] || { echo "make-calibration: missing $data/$s/MANIFEST.csv" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=()
for s in "${sets[@]}"; do
  echo "make-calibration: evaluating $s" >&2
  "$palmvein" eval --manifest "$data/$s/MANIFEST.csv" --scores "$work/$s.csv" --report "$work/$s.json"
  args+=("$data/$s/MANIFEST.csv" "$work/$s.csv")
done
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain -- lib/src 2>/dev/null | head -c1)
python3 "$repo/scripts/calibration_table.py" --out "$repo/models/score_calibration.csv" \
  --note "Algorithm: $("$palmvein" --version 2>/dev/null | tail -n1) at git $commit${dirty:+ (with uncommitted lib/src changes)}" \
  "${args[@]}"
