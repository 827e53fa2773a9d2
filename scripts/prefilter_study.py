#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How well the 1:N pre-filter keeps mates, per development split (docs/identification.md,
"Pre-filter planes and radius").

    scripts/prefilter_study.py [--palmvein PATH] [--data DIR] [--out DIR] [--threads N]
                               [--configs P:R:D,...] [--sets a,b,...]

For each set and split half (scripts/devsplits.py's cut: CASIA palms 001-025 tune / 026-050
validate, PolyU 0001-0125 / 0126-0250; scut-sample and put-sample whole, report only; a synthetic
set from `palmvein synth`, 300 palms x 6 by default) and each pre-filter configuration P:R:D (coarse planes, coarse radius,
shortlist divisor), runs `palmvein bench identify --dataset` and prints one markdown row: rank-1
identical to exhaustive search (every image a probe among all the others), and every mated pair taken
as if it were the palm's only enrolment: how many the exact matcher ranks above every impostor, and
how many of those the pre-filter would leave out of a shortlist of N / D entries (the fraction of
impostors it ranks ahead of the mate above 1 / D). A set of I impostors resolves fractions down to
1 / I only. Choose on the tune rows; quote the validate and report-only rows.

Exit 0 on success, 2 on a bad option or a failed command. Standard library only.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devsplits  # noqa: E402  (the split cut and the command runner)

DEFAULT_CONFIGS = "6:3:256,3:2:128"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--palmvein", default=os.path.join(devsplits.REPO, "build", "apps", "palmvein"))
    ap.add_argument("--data", default=os.path.join(devsplits.REPO, "..", "shared", "data"))
    ap.add_argument("--out", help="folder for manifests and reports (default: a temporary one)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help="P:R:D,... (planes, radius, divisor)")
    ap.add_argument("--sets", default="casia940-fullhand,casia850-roi,polyu-nir-roi,put-sample,synthetic")
    ap.add_argument("--synthetic-palms", type=int, default=300, help="palms of the synthetic set (6 samples each)")
    args = ap.parse_args()
    try:
        configs = []
        for c in args.configs.split(","):
            p, r, d = (int(x) for x in c.split(":"))
            configs.append((p, r, d))
    except ValueError:
        print("prefilter_study: --configs must be P:R:D,... with integers, got '%s'" % args.configs, file=sys.stderr)
        return 2
    out = args.out or tempfile.mkdtemp(prefix="prefilter-study-")
    os.makedirs(out, exist_ok=True)
    try:
        jobs = []  # (set, part, manifest)
        for name in args.sets.split(","):
            if name == "synthetic":
                folder = os.path.join(out, "synthetic")
                if not os.path.isfile(os.path.join(folder, "MANIFEST.csv")):
                    devsplits.run([args.palmvein, "synth", "--palms", str(args.synthetic_palms), "--samples", "6", "--seed", "9001",
                                   "--out", folder])
                jobs.append((name, "tune", os.path.join(folder, "MANIFEST.csv")))
                continue
            manifest = os.path.join(args.data, name, "MANIFEST.csv")
            if not os.path.isfile(manifest):
                print("skipped %s: %s not found" % (name, manifest), file=sys.stderr)
                continue
            if name in devsplits.SPLIT_SETS:
                for part in ("tune", "validate"):
                    split_manifest = os.path.join(os.path.dirname(manifest), "MANIFEST.csv")
                    target = os.path.join(out, "%s.%s.csv" % (name, part))
                    devsplits.split(split_manifest, part, target, args.data)
                    jobs.append((name, part, target))
            else:
                jobs.append((name, "report only", manifest))
        print("| set | part | planes:radius:divisor | rank-1 identical | mated pairs matcher-first | lost at N/D |")
        print("|---|---|---|---|---|---|")
        for name, part, manifest in jobs:
            for p, r, d in configs:
                report = os.path.join(out, "%s.%s.p%d-r%d.json" % (name, part.replace(" ", "-"), p, r))
                cmd = [args.palmvein, "bench", "identify", "--dataset", manifest, "--coarse-planes", str(p),
                       "--coarse-radius", str(r), "--json"]
                if args.threads:
                    cmd += ["--threads", str(args.threads)]
                with open(report, "w", encoding="utf-8") as f:
                    f.write(devsplits.run(cmd))
                with open(report, encoding="utf-8") as f:
                    j = json.load(f)
                m = j["prefilter_mate_impostor_fraction_ahead"]
                lost = m["matcher_first_beyond_shortlist"].get("N/%d" % d)
                if lost is None:
                    devsplits.fail("divisor %d is not one the bench reports (%s)" % (d, ", ".join(m["matcher_first_beyond_shortlist"])))
                print("| %s | %s | %d:%d:%d | %d/%d | %d of %d | %d |" % (name, part, p, r, d, j["rank1_identical_count"],
                                                                       j["probes"], m["matcher_first"], m["pairs"], lost))
                sys.stdout.flush()
    except devsplits.Failure as e:
        print("prefilter_study: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
