#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Issue #7: scale-search simulation, second step (see scale_search_sim.cpp).

    scale_search_sim.py OUTDIR [OUTDIR ...]    (OUTDIR.csv: the score file of palmvein eval)

Prints EER and FNMR@1e-3 of probe-vs-enrolled pairs with no search and with the best score over
several scales. Rough: at most a few thousand impostor pairs. Standard library only.
"""
import csv, sys
def eer(gen, imp):
    gen=sorted(gen); imp=sorted(imp); ng, ni = len(gen), len(imp)
    import bisect
    best=None
    for t in sorted(set(gen+imp)):
        fnmr = bisect.bisect_left(gen, t)/ng; fmr = (ni-bisect.bisect_left(imp, t))/ni
        if best is None or abs(fmr-fnmr) < best[0]: best=(abs(fmr-fnmr),(fmr+fnmr)/2)
    t3 = imp[int(ni*(1-1e-3))] if ni>=1000 else imp[-1]
    return best[1], sum(1 for g in gen if g<=t3)/ng
for s in sys.argv[1:]:
    lab = {r["path"]: r["subject"] for r in csv.DictReader(open("%s/MANIFEST.csv" % s))}
    sc = {}
    for r in csv.DictReader(open("%s.csv" % s)):
        a, b = r["a"], r["b"]
        if a.startswith("q_") == b.startswith("q_"): continue
        q, v = (a, b) if a.startswith("q_") else (b, a)
        sc[(q, v)] = float(r["score"])
    for name, versions in (("no search (v0)", ["v0"]), ("crops only {1,.93,.86}", ["v0","v1","v2"]), ("5 scales", ["v0","v1","v2","v3","v4"]), ("3 scales {1/.93,1,.93}", ["v0","v1","v3"])):
        best = {}
        for (q, v), x in sc.items():
            k, img = v.split("_", 1)
            if k not in versions: continue
            key = (q, img); best[key] = max(best.get(key, 0), x)
        gen = [x for (q, img), x in best.items() if lab[q] == lab["v0_" + img]]
        imp = [x for (q, img), x in best.items() if lab[q] != lab["v0_" + img]]
        e, f3 = eer(gen, imp)
        print("%s %-26s EER %.2f %%  FNMR@1e-3 %.1f %%  (%d gen / %d imp)" % (s, name, 100*e, 100*f3, len(gen), len(imp)))
