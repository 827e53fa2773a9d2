#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Development-split evaluation (../shared/PROTOCOL.md, "Development splits").

    scripts/devsplits.py [--palmvein PATH] [--data DIR] [--out DIR] [--json FILE]
                         [--threads N] [--sets a,b,...]

Runs `palmvein eval` on the tune and the validate half of casia940-fullhand, casia850-roi and
polyu-nir-roi (palms 001-025 / 026-050, PolyU 0001-0125 / 0126-0250), on scut-sample and put-sample
whole ("report only": never tune on them), on a synthetic set (`palmvein synth --palms 40
--samples 6`) and on stress copies of both casia940-fullhand halves (`palmvein augment`: hands rotated
by up to 45 degrees, zoomed by up to 1.5x or 2x so that the border cuts the close-ups' palms; fixed
seeds, docs/roi.md), and prints one markdown table plus a summary of the validate + report-only
figures, the only ones a closing note may quote. Sets that are absent are skipped with a message.

Exit 0 on success, 2 on a bad option or a failed command (one message on stderr).
Standard library only.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLIT_SETS = ("casia940-fullhand", "casia850-roi", "polyu-nir-roi")
REPORT_ONLY = ("scut-sample", "put-sample")
# Stress copies of a split set's halves: name -> (source set, `palmvein augment` options, seed per half).
STRESS_SETS = {
    "casia940-rot45": ("casia940-fullhand", ["--rotate", "45", "--scale", "1.5"], {"tune": 11, "validate": 14}),
    "casia940-closeup": ("casia940-fullhand", ["--rotate", "45", "--scale", "2"], {"tune": 12, "validate": 13}),
}
ALL_SETS = SPLIT_SETS + REPORT_ONLY + ("synthetic",) + tuple(STRESS_SETS)
# The same cut as ../shared/tools/split_manifest.py (used when that tool is absent).
FIXED_CUT = {"casia940-fullhand": 25, "casia850-roi": 25, "polyu-nir-roi": 125}


class Failure(Exception):
    pass


def fail(msg):
    raise Failure(msg)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        fail("command failed (exit %d): %s\n  %s" % (p.returncode, " ".join(cmd), "\n  ".join(tail)))
    return p.stdout


def split_builtin(manifest, part, out):
    """Same behaviour as split_manifest.py: keep the manifest's columns, rewrite paths."""
    with open(manifest, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows, fields = list(reader), reader.fieldnames
    if not rows:
        fail("%s has no rows" % manifest)
    name = os.path.basename(os.path.dirname(os.path.abspath(manifest)))
    subjects = sorted({r["subject"] for r in rows})
    if name in FIXED_CUT and all(s.isdigit() for s in subjects):
        tune = {s for s in subjects if int(s) <= FIXED_CUT[name]}
    else:
        tune = set(subjects[: len(subjects) // 2])
    keep = [r for r in rows if (r["subject"] in tune) == (part == "tune")]
    src = os.path.dirname(os.path.abspath(manifest))
    for r in keep:
        r["path"] = os.path.relpath(os.path.join(src, r["path"]), os.path.dirname(os.path.abspath(out)))
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(keep)


def split(manifest, part, out, data_dir):
    tool = os.path.join(REPO, "..", "shared", "tools", "split_manifest.py")
    if not os.path.isfile(tool):
        tool = os.path.join(os.path.dirname(os.path.abspath(data_dir)), "tools", "split_manifest.py")
    if os.path.isfile(tool):
        run([sys.executable, tool, manifest, "--part", part, "-o", out])
    else:
        split_builtin(manifest, part, out)


def evaluate(args, set_name, part, manifest):
    stem = os.path.join(args.out, "%s.%s" % (set_name, part))
    cmd = [args.palmvein, "eval", "--manifest", manifest, "--scores", stem + ".scores.csv",
           "--report", stem + ".report.json"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    run(cmd)
    with open(stem + ".report.json", encoding="utf-8") as f:
        rep = json.load(f)
    cross = rep.get("cross_session")
    fnmr = rep.get("fnmr_at_fmr", {})
    reliable = rep.get("fnmr_at_fmr_reliable", {})
    return {
        "set": set_name, "part": part, "images": rep["images"], "fta": rep["fta"],
        "genuine_pairs": rep["genuine_pairs"], "impostor_pairs": rep["impostor_pairs"],
        "eer": rep["eer"] if rep["impostor_pairs"] and rep["genuine_pairs"] else None,
        "fnmr_1e-3": fnmr.get("0.001"), "fnmr_1e-3_reliable": reliable.get("0.001"),
        "fnmr_1e-2": fnmr.get("0.01"), "fnmr_1e-2_reliable": reliable.get("0.01"),
        "cross_session_eer": cross["eer"] if cross else None,
        "dprime": rep.get("dprime"), "rank1": rep.get("rank1_accuracy"), "report": stem + ".report.json",
    }


def palms_of(manifest):
    with open(manifest, newline="", encoding="utf-8-sig") as f:
        return {(r["subject"], r.get("hand", "")) for r in csv.DictReader(f)}


def one_palm(args, set_name, manifest, sets):
    """A set of one palm has no impostor pairs of its own (`palmvein eval` refuses it): it is pooled
    with the other report-only sets, and only its own genuine pairs are counted, at the thresholds
    for FMR 1e-3 / 1e-2 that the pooled impostors give (impostors then come from another sensor,
    so read FNMR as "its genuine pairs against a cross-sensor threshold")."""
    others = [o for o in REPORT_ONLY if o != set_name
              and os.path.isfile(os.path.join(args.data, o, "MANIFEST.csv"))]
    if not others:
        fail("%s has one palm and no other report-only set to pool with" % set_name)
    pooled = os.path.join(args.out, "%s.pooled.csv" % set_name)
    own, fields, rows = set(), None, []
    for name in [set_name] + others:
        src = os.path.join(args.data, name, "MANIFEST.csv")
        with open(src, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = fields or reader.fieldnames
            for r in reader:
                r["path"] = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(src)), r["path"]),
                                            os.path.dirname(pooled))
                r["subject"] = "%s:%s" % (name, r["subject"])
                if name == set_name:
                    own.add(r["path"])
                rows.append({k: r.get(k, "") for k in fields})
    with open(pooled, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    r = evaluate(args, set_name, "report-only", pooled)
    with open(r["report"], encoding="utf-8") as f:
        thresholds = json.load(f)["fnmr_at_fmr_threshold"]
    gen = []
    label = {row["path"]: row["subject"] for row in rows}
    scored = set()  # images with a pair above the lowest score (kLowestScore = 0): not an FTA
    with open(r["report"].replace(".report.json", ".scores.csv"), newline="", encoding="utf-8") as f:
        for p in csv.DictReader(f):
            score = float(p["score"])
            if score > 0:
                scored.update((p["a"], p["b"]))
            if p["a"] in own and p["b"] in own and label[p["a"]] == label[p["b"]]:
                gen.append(score)
    r.update({"set": "%s (pooled with %s)" % (set_name, "+".join(others)), "eer": None,
              "images": len(own), "fta": len(own - scored), "dprime": None,
              "genuine_pairs": len(gen), "cross_session_eer": None,
              "fnmr_1e-3": sum(1 for g in gen if g < thresholds["0.001"]) / len(gen) if gen else None,
              "fnmr_1e-2": sum(1 for g in gen if g < thresholds["0.01"]) / len(gen) if gen else None})
    return r


def pct(v, digits=3, reliable=True):
    if v is None:
        return "–"
    return "%.*f %%%s" % (digits, 100 * v, "" if reliable in (True, None) else " (u)")


def table(rows):
    out = ["| set | part | images | FTA | EER | FNMR@1e-3 | FNMR@1e-2 | cross-session EER | d′ | genuine / impostor pairs |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s | %d | %d | %s | %s | %s | %s | %s | %d / %d |" % (
            r["set"], r["part"], r["images"], r["fta"], pct(r["eer"]),
            pct(r["fnmr_1e-3"], reliable=r["fnmr_1e-3_reliable"]),
            pct(r["fnmr_1e-2"], reliable=r["fnmr_1e-2_reliable"]), pct(r["cross_session_eer"]),
            "–" if r["dprime"] is None else "%.2f" % r["dprime"], r["genuine_pairs"], r["impostor_pairs"]))
    return "\n".join(out)


def summary(rows):
    quoted = [r for r in rows if r["part"] in ("validate", "report-only")]
    if not quoted:
        return "validate + report-only: none evaluated"
    parts = []
    for r in quoted:
        s = "%s %s EER %s" % (r["set"], r["part"], pct(r["eer"]))
        if r["cross_session_eer"] is not None:
            s += " (cross-session %s)" % pct(r["cross_session_eer"])
        s += ", FNMR@1e-3 %s, FTA %d/%d" % (pct(r["fnmr_1e-3"], reliable=r["fnmr_1e-3_reliable"]), r["fta"],
                                           r["images"])
        parts.append(s)
    return "validate + report-only (quotable): " + "; ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--palmvein", default=os.path.join(REPO, "build", "apps", "palmvein"),
                    help="the palmvein binary (default: build/apps/palmvein)")
    ap.add_argument("--data", default=os.environ.get("PALMVEIN_DATA_DIR") or os.path.join(REPO, "..", "shared", "data"),
                    help="folder of the development sets (default: $PALMVEIN_DATA_DIR or ../shared/data)")
    ap.add_argument("--out", help="scratch folder for manifests, scores and reports (default: a temporary folder)")
    ap.add_argument("--json", help="write all figures to this JSON file")
    ap.add_argument("--threads", type=int, default=0, help="threads for palmvein eval (default: all cores)")
    ap.add_argument("--sets", default=",".join(ALL_SETS), help="comma list of sets (default: %(default)s)")
    try:
        args = ap.parse_args()
    except SystemExit as e:
        sys.exit(0 if e.code == 0 else 2)  # argparse already printed the message

    try:
        sets = [s.strip() for s in args.sets.split(",") if s.strip()]
        unknown = [s for s in sets if s not in ALL_SETS]
        if unknown or not sets:
            fail("--sets: unknown set(s) %s (known: %s)" % (",".join(unknown) or "(none)", ",".join(ALL_SETS)))
        if args.threads < 0:
            fail("--threads must be >= 0")
        if not (os.path.isfile(args.palmvein) and os.access(args.palmvein, os.X_OK)):
            fail("--palmvein: '%s' is not an executable (build the palmvein_cli target)" % args.palmvein)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
        else:
            args.out = tempfile.mkdtemp(prefix="devsplits-")
        args.out = os.path.abspath(args.out)

        rows = []
        for s in sets:
            if s == "synthetic":
                d = os.path.join(args.out, "synthetic")
                shutil.rmtree(d, ignore_errors=True)  # always made afresh by this build's generator
                run([args.palmvein, "synth", "--palms", "40", "--samples", "6", "--seed", "1", "--out", d])
                rows.append(evaluate(args, s, "all (synthetic)", os.path.join(d, "MANIFEST.csv")))
                continue
            if s in STRESS_SETS:
                source, options, seeds = STRESS_SETS[s]
                manifest = os.path.join(args.data, source, "MANIFEST.csv")
                if not os.path.isfile(manifest):
                    print("devsplits: %s absent (%s), skipped" % (source, manifest), file=sys.stderr)
                    continue
                for part in ("tune", "validate"):
                    m = os.path.join(args.out, "%s.%s.csv" % (source, part))
                    split(manifest, part, m, args.data)
                    d = os.path.join(args.out, "%s.%s" % (s, part))
                    shutil.rmtree(d, ignore_errors=True)
                    run([args.palmvein, "augment", "--manifest", m, "--out", d, "--seed", str(seeds[part])] + options)
                    rows.append(evaluate(args, s, part, os.path.join(d, "MANIFEST.csv")))
                print("devsplits: %s done" % s, file=sys.stderr)
                continue
            manifest = os.path.join(args.data, s, "MANIFEST.csv")
            if not os.path.isfile(manifest):
                print("devsplits: %s absent (%s), skipped" % (s, manifest), file=sys.stderr)
                continue
            if s in REPORT_ONLY:
                if len(palms_of(manifest)) >= 2:
                    rows.append(evaluate(args, s, "report-only", os.path.abspath(manifest)))
                else:
                    rows.append(one_palm(args, s, manifest, sets))
                continue
            for part in ("tune", "validate"):
                m = os.path.join(args.out, "%s.%s.csv" % (s, part))
                split(manifest, part, m, args.data)
                rows.append(evaluate(args, s, part, m))
            print("devsplits: %s done" % s, file=sys.stderr)
    except Failure as e:
        print("devsplits: %s" % e, file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        print("devsplits: %s" % e, file=sys.stderr)
        sys.exit(2)

    print(table(rows))
    print()
    print(summary(rows))
    print("(u): unreliable, fewer than 10 impostor pairs at that FMR; reports in %s" % args.out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rows": rows}, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
