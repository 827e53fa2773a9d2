#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Issue #7 ablation runner (docs/evaluation.md, "Ablations (issue #7)"). Needs a build with
scripts/ablation/issue7-experiment.patch applied (PV_EXP overrides FeatureConfig fields; never
commit that patch) for --exp; with an empty --exp any build works.

    ablate.py --suite clean    --exp "photometric=2,illum_sigma=11"   # devsplits, tune rows printed
    ablate.py --suite photo    --part tune --exp ...   # perturbed halves (perturb HALF OUT)
    ablate.py --suite scale    --part tune --exp ...   # 93 % / 86 % centre crops (PK=4 CS=...)

--scratch (default /tmp/pv-ablation) holds the perturbed sets (made beforehand with perturb.cpp
as <scratch>/<part>-<set> and <scratch>/<part>-scale<crop>-<set>) and all outputs. Standard library.
"""
import argparse, json, os, subprocess, sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETS = ("casia940-fullhand", "casia850-roi", "polyu-nir-roi")


def eval_one(args, manifest, stem):
    cmd = [args.palmvein, "eval", "--manifest", manifest, "--scores", stem + ".csv", "--report", stem + ".json",
           "--threads", str(args.threads)]
    p = subprocess.run(cmd, env=dict(os.environ, PV_EXP=args.exp), capture_output=True, text=True)
    if p.returncode:
        sys.exit("ablate: %s\n%s" % (" ".join(cmd), p.stderr))
    return json.load(open(stem + ".json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=("clean", "photo", "scale"), required=True)
    ap.add_argument("--part", choices=("tune", "validate"), default="tune")
    ap.add_argument("--exp", default="")
    ap.add_argument("--palmvein", default=os.path.join(REPO, "build", "apps", "palmvein"))
    ap.add_argument("--scratch", default="/tmp/pv-ablation")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.scratch, exist_ok=True)
    tag = args.exp.replace(",", "_").replace("=", "-") or "base"
    cells = []
    if args.suite == "clean":
        out = os.path.join(args.scratch, "clean-" + tag)
        cmd = [sys.executable, os.path.join(REPO, "scripts", "devsplits.py"), "--palmvein", args.palmvein,
               "--sets", ",".join(SETS), "--out", out, "--json", out + ".json", "--threads", str(args.threads)]
        p = subprocess.run(cmd, env=dict(os.environ, PV_EXP=args.exp), capture_output=True, text=True)
        if p.returncode:
            sys.exit(p.stderr)
        for r in json.load(open(out + ".json"))["rows"]:
            if r["part"] == args.part:
                cells.append("%s EER %.3f x %.3f F3 %.2f d' %.2f fta %d" % (
                    r["set"], 100 * r["eer"], 100 * (r["cross_session_eer"] or 0), 100 * r["fnmr_1e-3"], r["dprime"], r["fta"]))
    elif args.suite == "photo":
        for s in SETS:
            r = eval_one(args, os.path.join(args.scratch, "%s-%s" % (args.part, s), "MANIFEST.csv"),
                         os.path.join(args.scratch, "photo-%s-%s-%s" % (args.part, s, tag)))
            c = r["cross_session"]
            cells.append("%s EER %.3f x %.3f xF3 %.2f d' %.2f fta %d" % (
                s, 100 * r["eer"], 100 * c["eer"], 100 * c["fnmr_at_fmr"]["0.001"], r["dprime"], r["fta"]))
    else:
        for crop in ("0.93", "0.86"):
            for s in SETS[1:]:
                r = eval_one(args, os.path.join(args.scratch, "%s-scale%s-%s" % (args.part, crop, s), "MANIFEST.csv"),
                             os.path.join(args.scratch, "scale-%s-%s-%s-%s" % (args.part, crop, s, tag)))
                c = r["cross_session"]
                cells.append("%s crop %s xEER %.2f xF3 %.1f" % (s, crop, 100 * c["eer"], 100 * c["fnmr_at_fmr"]["0.001"]))
    print("%s %s [%s] | %s" % (args.suite, args.part, args.exp, " | ".join(cells)))


if __name__ == "__main__":
    main()
