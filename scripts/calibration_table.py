#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the score -> false-match-rate table (models/score_calibration.csv) from all-pairs score files.

  calibration_table.py --out models/score_calibration.csv [--note TEXT] MANIFEST.csv SCORES.csv [MANIFEST SCORES ...]

Each SCORES.csv is the output of `palmvein eval` (header a,b,score) for the data set of the MANIFEST.csv
before it. Impostor pairs (different (subject, hand)) of all sets are pooled; for a log-spaced grid of
false-match rates the table holds the lowest threshold whose FMR on the pooled impostors is at most
that rate, with the FMR measured there (the rule of FNMR@FMR in shared/tools/evalscores.py). The table
is made strictly monotone (scores increasing, FMR decreasing), starts at FMR 1 (every impostor
accepted) and ends at FMR 0 (just above the highest impostor). No third-party modules.
"""
import argparse, bisect, csv, datetime, os, sys, tempfile

STEP = 1e-6            # palmvein eval writes scores in steps of 1e-6 (kScoreResolution)
POINTS_PER_DECADE = 8  # density of the FMR grid


def impostor_scores(manifest, scores):
    palm = {}
    with open(manifest, newline="") as f:
        for r in csv.DictReader(f):
            palm[r["path"]] = (r["subject"], r["hand"])
    out = []
    with open(scores, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        if header[:3] != ["a", "b", "score"]:
            sys.exit("%s: expected the header a,b,score" % scores)
        for a, b, s in rd:
            if palm[a] != palm[b]:
                out.append(float(s))
    return out


def table(imp):
    asc = sorted(imp)
    imp = asc[::-1]  # highest first
    n = len(imp)
    points = {}
    k_levels = set()
    e = 0
    while True:
        x = 10 ** (-e / POINTS_PER_DECADE)
        k = int(x * n)  # impostors allowed at or above the threshold
        if x * n < 1:
            break
        k_levels.add(k)
        e += 1
    for k in sorted(k_levels):
        if k >= n:
            points[imp[-1]] = 1.0
            continue
        t = round(imp[k] + STEP, 6)  # just above the (k+1)-th highest impostor
        points[t] = (n - bisect.bisect_left(asc, t)) / n  # impostors accepted at t
    points[imp[-1]] = 1.0
    points[round(imp[0] + STEP, 6)] = 0.0
    rows = []
    for t in sorted(points):
        f = points[t]
        if rows and f >= rows[-1][1]:
            continue  # keep the FMR strictly decreasing
        rows.append((t, f))
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--note", default="", help="provenance line (e.g. the algorithm's git commit)")
    ap.add_argument("pairs", nargs="+", help="MANIFEST.csv SCORES.csv [...]")
    args = ap.parse_args(argv)
    if len(args.pairs) % 2:
        ap.error("give MANIFEST.csv SCORES.csv pairs")
    imp, counts, per_set = [], [], []
    for manifest, scores in zip(args.pairs[0::2], args.pairs[1::2]):
        s = impostor_scores(manifest, scores)
        name = os.path.basename(os.path.dirname(os.path.abspath(manifest)))
        counts.append("%s: %d" % (name, len(s)))
        per_set.append((name, sorted(s)))
        imp += s
    rows = table(imp)
    # How far each set strays from the pooled estimate at two common operating points.
    spread = []
    for target in (1e-3, 1e-4):
        t = next(r[0] for r in rows if r[1] <= target)
        spread.append("at score %.6f (pooled FMR %.3g): %s" % (t, next(r[1] for r in rows if r[0] == t), ", ".join(
            "%s %.3g" % (name, (len(v) - bisect.bisect_left(v, t)) / len(v)) for name, v in per_set)))
    lines = [
        "# Score -> false-match-rate calibration of palmvein (an ESTIMATE, see models/README.md).",
        "# Made by scripts/make-calibration.sh on %s UTC.%s" % (
            datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), (" " + args.note) if args.note else ""),
        "# Pooled impostor pairs: %d (%s)." % (len(imp), ", ".join(counts)),
    ] + ["# Per-set FMR " + x for x in spread] + [
        "# fmr = fraction of those impostor pairs with score >= the score of the row.",
        "score,fmr",
    ] + ["%.6f,%.10g" % r for r in rows]
    out_dir = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".score_calibration.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, args.out)
    print("%s: %d points from %d impostor pairs" % (args.out, len(rows), len(imp)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
