#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One hand against two, through the library's application flow (issue #9, docs/gallery.md "Two hands").

Persons are enrolled with both palms into a real gallery file (Gallery.enroll) and searched with
Identifier.identify(PersonProbe(...)): once with the left palm only, once with both (min fusion at
two_hand_threshold). Half the persons (drawn by --seed) are held out: their searches are non-mated.
Reports, for one hand and for two: FNIR at FPIR 1e-2 / 1e-3 (thresholds from the non-mated searches,
palmvein.open_set_metrics), FNIR at FPIR 0 (threshold above every non-mated search), the weakest mate
and the strongest non-mated score, rank-1, and the library's own decision at --fmr (FNIR and FPIR
counted from IdentificationResult.found).

Persons come from
  --synthetic N        the virtual sensor's people (hand=L and hand=R of palm p, seed --data-seed), or
  --manifest CSV       a data set: palms (subject, hand) shuffled by --seed and paired as one person's
                       left and right hand (chimeric persons); gallery = session 1 (or the first
                       --gallery-samples), probes = the other samples, the k-th probe of a person
                       pairs the k-th probe images of its two palms.
Prints a JSON report on stdout. Needs the Python bindings (PYTHONPATH=build/python).
"""
import argparse
import csv
import json
import os
import random
import sys
import tempfile

import palmvein


def synthetic_persons(n, gallery_samples, probes, data_seed):
    extractor = palmvein.TemplateExtractor()

    def captures(palm, hand, start, count):
        out = []
        with palmvein.open_sensor(f"virtual:?palm={palm}&hand={hand}&seed={data_seed}&start={start}&fps=0") as sensor:
            tries = 0
            while len(out) < count and tries < 20 * count:
                tries += 1
                result = extractor.extract(sensor.grab())
                if result.ok:
                    out.append(result.template)
        return out

    persons = []
    for p in range(1, n + 1):
        person = {"id": f"syn-{p:04d}"}
        for hand in "LR":
            person[hand] = {"gallery": captures(p, hand, 0, gallery_samples), "probes": captures(p, hand, 100, probes)}
        persons.append(person)
    return persons, 0


def manifest_persons(path, gallery_samples, seed):
    folder = os.path.dirname(os.path.abspath(path))
    palms = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            palms.setdefault((row["subject"], row["hand"]), []).append(row)
    keys = sorted(palms)
    random.Random(seed).shuffle(keys)
    extractor = palmvein.TemplateExtractor()
    failed = 0

    def templates(rows):
        nonlocal failed
        out = []
        for row in rows:
            kind = palmvein.ImageKind.Roi if row["kind"] == "roi" else palmvein.ImageKind.FullHand
            result = extractor.extract(palmvein.read_image(os.path.join(folder, row["path"])), kind)
            if result.ok:
                out.append(result.template)
            else:
                failed += 1
        return out

    persons = []
    for i in range(0, len(keys) - 1, 2):
        person = {"id": f"chim-{i // 2:04d}"}
        for hand, key in zip("LR", keys[i:i + 2]):
            rows = sorted(palms[key], key=lambda r: (r["session"], r["sample"]))
            if gallery_samples:
                g, p = rows[:gallery_samples], rows[gallery_samples:]
            else:
                g = [r for r in rows if r["session"] == rows[0]["session"]]
                p = [r for r in rows if r["session"] != rows[0]["session"]]
            person[hand] = {"gallery": templates(g), "probes": templates(p)}
        persons.append(person)
    return persons, failed


def study(persons, fmr, seed, candidate_list):
    order = list(range(len(persons)))
    random.Random(seed + 1).shuffle(order)
    held_out = set(order[: len(order) // 2])
    with tempfile.TemporaryDirectory() as tmp:
        gallery = palmvein.Gallery.open(os.path.join(tmp, "g.db"), key_file=os.path.join(tmp, "k.key"))
        requests = []
        for i, person in enumerate(persons):
            if i in held_out or not person["L"]["gallery"] or not person["R"]["gallery"]:
                continue
            requests.append((person["id"], person["L"]["gallery"], palmvein.Hand.Left))
            requests.append((person["id"], person["R"]["gallery"], palmvein.Hand.Right))
        gallery.enroll_many(requests)
        enrolled = {r[0] for r in requests}
        identifier = palmvein.Identifier.load(gallery)
        report = {"enrolled_persons": len(enrolled), "fmr_per_person": fmr}
        for name, both in (("one_hand", False), ("two_hands", True)):
            mate_scores, mate_ranks, nonmated_best = [], [], []
            decided = {"mated": 0, "mated_found_right": 0, "nonmated": 0, "nonmated_found": 0}
            for i, person in enumerate(persons):
                mated = person["id"] in enrolled
                if not mated and i not in held_out:
                    continue  # an enrolled-to-be person whose gallery samples all failed
                for k in range(min(len(person["L"]["probes"]), len(person["R"]["probes"]))):
                    probe = palmvein.PersonProbe(left=person["L"]["probes"][k],
                                                 right=person["R"]["probes"][k] if both else None)
                    answer = identifier.identify(probe, fmr=fmr, k=0)  # every candidate: the mate's rank
                    if mated:
                        ranked = [c.id for c in answer.candidates]
                        rank = ranked.index(person["id"]) + 1
                        mate = answer.candidates[rank - 1].score
                        rank = 1 + sum(1 for c in answer.candidates if c.id != person["id"] and c.score >= mate)
                        mate_scores.append(mate)
                        mate_ranks.append(rank)
                        decided["mated"] += 1
                        decided["mated_found_right"] += int(answer.found and answer.identity.id == person["id"])
                    else:
                        nonmated_best.append(answer.candidates[0].score if answer.candidates else palmvein.LOWEST_SCORE)
                        decided["nonmated"] += 1
                        decided["nonmated_found"] += int(answer.found)
            m = palmvein.open_set_metrics(mate_scores, mate_ranks, nonmated_best, candidate_list=candidate_list)
            report[name] = {
                "mated_searches": m.mated_probes,
                "nonmated_searches": m.nonmated_probes,
                "rank1": float(m.cmc[0]),
                # The separation behind "FNIR 0": the weakest mate, the strongest non-mated best, and
                # FNIR at the threshold just above every non-mated search (FPIR 0 on this set).
                "mated_min": min(mate_scores),
                "nonmated_max": max(nonmated_best),
                "fnir_at_fpir_0": sum(1 for s, r in zip(mate_scores, mate_ranks) if s <= max(nonmated_best) or r > 1)
                / len(mate_scores),
                "at_fpir": [{"target_fpir": p.target_fpir, "threshold": p.threshold, "fpir": p.fpir, "fnir": p.fnir,
                             "fnir_list": p.fnir_list, "reliable": p.reliable} for p in m.fnir_at_fpir],
                "decision_at_fmr": {
                    "threshold": answer.threshold.score,
                    "fnir": 1 - decided["mated_found_right"] / max(1, decided["mated"]),
                    "fpir": decided["nonmated_found"] / max(1, decided["nonmated"]),
                },
            }
        return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", type=int, metavar="N", help="N synthetic persons from the virtual sensor")
    source.add_argument("--manifest", help="a data set's MANIFEST.csv (chimeric persons)")
    parser.add_argument("--gallery-samples", type=int, default=None,
                        help="gallery templates per palm (synthetic default 3; manifest default: session 1)")
    parser.add_argument("--probes", type=int, default=3, help="probe captures per palm (synthetic)")
    parser.add_argument("--data-seed", type=int, default=7, help="the virtual sensor's data-set seed (synthetic)")
    parser.add_argument("--seed", type=int, default=1, help="draws the pairing (manifest) and the held-out half")
    parser.add_argument("--fmr", type=float, default=1e-4, help="the decision's false-match rate per person")
    parser.add_argument("--candidates", type=int, default=10, help="candidate list length L for FNIR_L")
    a = parser.parse_args()
    if a.synthetic is not None:
        if a.synthetic < 4:
            parser.error("--synthetic needs at least 4 persons")
        persons, failed = synthetic_persons(a.synthetic, a.gallery_samples or 3, a.probes, a.data_seed)
        source = {"synthetic_persons": a.synthetic, "data_seed": a.data_seed}
    else:
        if not os.path.exists(a.manifest):
            print(f"two_hand_study: no such manifest '{a.manifest}'", file=sys.stderr)
            return 2
        persons, failed = manifest_persons(a.manifest, a.gallery_samples, a.seed)
        source = {"manifest": a.manifest, "chimeric_persons": len(persons)}
    report = {"source": source, "failures_to_extract": failed, "seed": a.seed}
    report.update(study(persons, a.fmr, a.seed, a.candidates))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
