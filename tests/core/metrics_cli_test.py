#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of `palmvein metrics` as a program (registered with ctest by tests/core/CMakeLists.txt).

  metrics_cli_test.py PALMVEIN EVALSCORES
    On a small synthetic set (`palmvein synth`, `palmvein eval`): metrics on eval's score file agrees
    with eval's own report (EER, FNMR@FMR, rank-1) and with EVALSCORES (shared/tools/evalscores.py;
    that check is skipped when the file is absent); the four-column file it writes gives the same
    figures; a development/evaluation split reports the development thresholds on evaluation; the
    plots and their CSV points are written. Bad input: one error line, exit 2, nothing written.
"""
import csv, json, os, shutil, struct, subprocess, sys, tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def main(palmvein, evalscores):
    tmp = tempfile.mkdtemp(prefix="palmvein_metrics_cli_")
    try:
        data = os.path.join(tmp, "synth")
        rc, _, err = run([palmvein, "synth", "--palms", "8", "--samples", "4", "--out", data, "--threads", "2"])
        check(rc == 0, "synth failed: %s" % err)
        manifest = os.path.join(data, "MANIFEST.csv")
        scores, report = os.path.join(tmp, "scores.csv"), os.path.join(tmp, "eval.json")
        rc, _, err = run([palmvein, "eval", "--manifest", manifest, "--scores", scores, "--report", report,
                          "--threads", "2"])
        check(rc == 0, "eval failed: %s" % err)
        with open(report) as f:
            ev = json.load(f)

        mreport, prefix, four = os.path.join(tmp, "m.json"), os.path.join(tmp, "plots", "p"), os.path.join(tmp, "s.4col")
        os.mkdir(os.path.join(tmp, "plots"))
        rc, out, err = run([palmvein, "metrics", scores, "--manifest", manifest, "--report", mreport,
                            "--plots", prefix, "--write-4col", four])
        check(rc == 0, "metrics failed: %s" % err)
        with open(mreport) as f:
            m = json.load(f)
        for key in ("eer", "eer_threshold", "genuine_pairs", "impostor_pairs", "fnmr_at_fmr", "fnmr_at_fmr_threshold", "dprime"):
            check(m[key] == ev[key], "metrics %s %r != eval's %r" % (key, m[key], ev[key]))
        check(m["rank1_accuracy"] == ev["rank1_accuracy"],
              "rank-1 %r != eval's %r" % (m["rank1_accuracy"], ev["rank1_accuracy"]))
        check(len(m["cmc"]) == 20 and m["cmc"][-1] >= m["cmc"][0], "CMC: %r" % m["cmc"])
        for kind in ("det", "roc", "hist", "cmc"):
            w, h = png_size(prefix + "-%s.png" % kind)
            check((w, h) == (900, 700), "%s plot is %dx%d" % (kind, w, h))
            with open(prefix + "-%s.csv" % kind) as f:
                rows = list(csv.reader(f))
            check(len(rows) > 2, "%s CSV has %d rows" % (kind, len(rows)))
        with open(prefix + "-det.csv") as f:
            det = list(csv.DictReader(f))
        check(det[0]["series"] == "all comparisons" and float(det[-1]["fmr"]) == 1.0, "DET CSV points")

        # The four-column file carries its own labels: the same figures without the manifest.
        with open(four) as f:
            first = f.readline().split()
        check(len(first) == 4, "four-column line %r" % first)
        r4 = os.path.join(tmp, "m4.json")
        rc, _, err = run([palmvein, "metrics", four, "--four-column", "--report", r4])
        check(rc == 0, "metrics --four-column failed: %s" % err)
        with open(r4) as f:
            m4 = json.load(f)
        for key in ("eer", "fnmr_at_fmr", "genuine_pairs", "impostor_pairs"):
            check(m4[key] == ev[key], "four-column %s %r != eval's %r" % (key, m4[key], ev[key]))

        if os.path.exists(evalscores):
            rc, out, err = run([sys.executable, evalscores, scores, "--manifest", manifest, "--json"])
            check(rc == 0, "evalscores.py failed: %s" % err)
            py = json.loads(out)
            check(py["eer"] == m["eer"], "evalscores.py EER %r != metrics %r" % (py["eer"], m["eer"]))
        else:
            print("evalscores.py not found (%s): that comparison skipped" % evalscores)

        # Development / evaluation: the palms split in two halves by subject.
        with open(manifest, newline="") as f:
            rows = list(csv.DictReader(f))
        subjects = sorted({r["subject"] for r in rows})
        dev_subjects = set(subjects[: len(subjects) // 2])
        files = {}
        with open(scores, newline="") as f:
            reader = csv.DictReader(f)
            subject = {r["path"]: r["subject"] for r in rows}
            parts = {"dev": [], "eval": []}
            for r in reader:
                a, b = subject[r["a"]] in dev_subjects, subject[r["b"]] in dev_subjects
                if a == b:
                    parts["dev" if a else "eval"].append(r)
        for name, part in parts.items():
            files[name] = os.path.join(tmp, name + ".csv")
            with open(files[name], "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=["a", "b", "score"])
                w.writeheader()
                w.writerows(part)
        rs = os.path.join(tmp, "split.json")
        rc, out, err = run([palmvein, "metrics", "--dev", files["dev"], "--eval", files["eval"], "--manifest", manifest,
                            "--report", rs])
        check(rc == 0, "metrics --dev --eval failed: %s" % err)
        with open(rs) as f:
            sp = json.load(f)
        t = sp["thresholds_from_development"]
        check([x["criterion"] for x in t] == ["eer", "fmr=0.01", "fmr=0.001", "fmr=0.0001"], "criteria %r" % t)
        check(t[0]["threshold"] == sp["development"]["eer_threshold"], "EER threshold is the development one")
        # Recompute the evaluation rates at the development threshold from the evaluation file.
        label = {r["path"]: (r["subject"], r["hand"]) for r in rows}
        gen, imp = [], []
        for r in parts["eval"]:
            (gen if label[r["a"]] == label[r["b"]] else imp).append(float(r["score"]))
        thr = t[0]["threshold"]
        fmr = sum(s >= thr for s in imp) / len(imp)
        fnmr = sum(s < thr for s in gen) / len(gen)
        check(abs(t[0]["evaluation"]["fmr"] - fmr) < 1e-15 and abs(t[0]["evaluation"]["fnmr"] - fnmr) < 1e-15,
              "evaluation rates at the development threshold: %r, expected fmr %r fnmr %r" % (t[0], fmr, fnmr))
        check(abs(t[0]["evaluation"]["hter"] - (fmr + fnmr) / 2) < 1e-15, "HTER")
        check("HTER" in out, "the split's summary names the HTER: %r" % out)

        # Bad input: one error line, exit 2, nothing written.
        out_files = [os.path.join(tmp, "bad", n) for n in ("r.json", "s.4col")]
        os.mkdir(os.path.join(tmp, "bad"))
        bad_prefix = os.path.join(tmp, "bad", "p")
        std = ["--report", out_files[0], "--write-4col", out_files[1], "--plots", bad_prefix]

        def expect_error(args, needle, name):
            rc, out, err = run([palmvein, "metrics"] + args)
            lines = [l for l in err.splitlines() if l.strip()]
            check(rc == 2, "%s: exit %d, expected 2" % (name, rc))
            check(len(lines) == 1 and needle in err, "%s: one error line mentioning %r, got %r" % (name, needle, err))
            left = os.listdir(os.path.join(tmp, "bad"))
            check(not left, "%s: files written: %r" % (name, left))

        expect_error([os.path.join(tmp, "none.csv"), "--manifest", manifest] + std, "none.csv", "missing file")
        bad4 = os.path.join(tmp, "bad.4col")
        with open(bad4, "w") as f:
            f.write("a a x 0.5\nb b y 0.25\nb a z\n")
        expect_error([bad4, "--four-column"] + std, "line 3", "malformed four-column line")
        badcsv = os.path.join(tmp, "bad.csv")
        with open(badcsv, "w") as f:
            f.write("a,b,score\n%s,%s,0.5\n%s,%s,oops\n" % (rows[0]["path"], rows[1]["path"], rows[0]["path"], rows[2]["path"]))
        expect_error([badcsv, "--manifest", manifest] + std, "line 3", "malformed score row")
        expect_error([four, "--four-column", "--manifest", manifest] + std, "exactly one of", "both manifest and 4-column")
        expect_error([four] + std, "exactly one of", "neither manifest nor 4-column")
        expect_error(["--dev", four, "--four-column"] + std, "--dev and --eval", "dev without eval")
        expect_error([four, "--four-column", "--report", four], "input", "report over the input")
        only_genuine = os.path.join(tmp, "gen.4col")
        with open(only_genuine, "w") as f:
            f.write("a a x 0.5\n")
        expect_error([only_genuine, "--four-column"] + std, "impostor", "no impostors")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
