# SPDX-License-Identifier: Apache-2.0
"""Loading a large gallery file into the 1:N engine: time and memory, decryption included (docs/gallery.md).

    PYTHONPATH=build/python python3 benchmarks/gallery_load_bench.py --identities 1000000 --db /tmp/g1m.db

Fills an encrypted gallery file with IDENTITIES identities of one template each (rendered synthetic
palms, 200 distinct templates cycled: every row is encrypted and authenticated on its own, so load
work does not depend on which template it holds), enrolling in batches (Gallery.enroll_many). Then,
in a fresh process each, measures `palmvein.Identifier.load` (decrypt, authenticate, parse, index;
streamed, the C++ path `palmvein identify` uses) and the old path `Gallery.all_templates()` then
building the index, with peak resident memory (ru_maxrss), CPU time of all threads (user + system;
steadier than wall time on a shared machine) and the index's own size.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import palmvein

LOADERS = {
    "streamed": "import palmvein; g = palmvein.Gallery.open(DB, key_file=KEY, read_only=True); "
                "x = palmvein.Identifier.load(g); n = x.template_count",
    "list-then-index": "import palmvein; g = palmvein.Gallery.open(DB, key_file=KEY, read_only=True); "
                       "a = g.all_templates(); i = palmvein.IdentificationIndex(strategy=palmvein.SearchStrategy.Exhaustive); "
                       "i.reserve(len(a))\nfor t in a: i.add_bytes(0, t.data)\nn = len(i)",
}


def measure(kind, db, key):
    code = (f"import time, resource, json\nDB, KEY = {db!r}, {key!r}\nt0 = time.perf_counter()\n"
            + LOADERS[kind].replace("; ", "\n") +
            "\nr = resource.getrusage(resource.RUSAGE_SELF)"
            "\nprint(json.dumps({'seconds': time.perf_counter() - t0, 'cpu_seconds': r.ru_utime + r.ru_stime, "
            "'templates': n, 'peak_mib': r.ru_maxrss / 1024}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--identities", type=int, default=1_000_000)
    ap.add_argument("--db", required=True, help="gallery file to create (its key file is DB.key)")
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--reuse", action="store_true", help="measure an existing file of that name")
    ap.add_argument("--json")
    a = ap.parse_args()
    key = a.db + ".key"
    out = {"identities": a.identities, "batch": a.batch}
    if not a.reuse:
        for f in (a.db, key):
            if os.path.exists(f):
                os.remove(f)
        extractor = palmvein.TemplateExtractor()
        templates = []
        for palm in range(200):
            with palmvein.open_sensor(f"virtual:?palm={palm}") as sensor:
                while True:
                    r = extractor.extract(sensor.grab())
                    if r.ok:
                        templates.append(r.template)
                        break
        gallery = palmvein.Gallery.open(a.db, key_file=key)
        t0 = time.perf_counter()
        for start in range(0, a.identities, a.batch):
            gallery.enroll_many([(f"person{i:08d}", [templates[i % len(templates)]], palmvein.Hand.Left)
                                 for i in range(start, min(a.identities, start + a.batch))])
            print(f"enrolled {min(a.identities, start + a.batch):,}", file=sys.stderr, flush=True)
        out["enrol_seconds"] = time.perf_counter() - t0
        del gallery
    out["file_mib"] = os.path.getsize(a.db) / 2**20
    for kind in LOADERS:
        out[kind] = measure(kind, a.db, key)
    text = json.dumps(out, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
