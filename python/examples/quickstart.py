# SPDX-License-Identifier: Apache-2.0
"""Enrol three synthetic people, verify one, identify another: the palmvein Python package end to end."""
import sys
import tempfile

import numpy as np

import palmvein


def capture(palm: int, start: int) -> palmvein.Template:
    """One template of a synthetic palm from the virtual sensor (retrying frames without a palm)."""
    extractor = palmvein.TemplateExtractor()
    with palmvein.open_sensor(f"virtual:?palm={palm}&start={start}") as sensor:
        for _ in range(10):
            frame = np.asarray(sensor.grab().array)  # any 2-D uint8/uint16 array will do
            result = extractor.extract(frame)
            if result.ok:
                return result.template
            print(f"retry: {result.failure.code}: {result.failure.guidance}")
    sys.exit("no usable frame")


with tempfile.TemporaryDirectory() as folder:
    gallery = palmvein.Gallery.open(f"{folder}/palms.db", key_file=f"{folder}/palms.key")
    for palm, name in enumerate(["alice", "bob", "carol"]):
        gallery.enroll(name, [capture(palm, 0), capture(palm, 1)], hand=palmvein.Hand.Left)

    threshold = palmvein.threshold_for_fmr(1e-4)  # accept at a false-match rate of 1 in 10,000
    probe = capture(1, 5)  # bob again, a later capture
    best = max(palmvein.match(probe, t.template) for t in gallery.templates_of("bob"))
    print(f"verify bob: score {best:.3f}, threshold {threshold:.3f}:", "accepted" if best >= threshold else "rejected")

    index = palmvein.IdentificationIndex()
    names = {}
    for stored in gallery.all_templates():
        key = palmvein.identity_key(stored.id, stored.hand)
        names[key] = stored.id
        index.add(key, stored.template)
    found = index.identify(capture(2, 7), threshold)  # carol, unannounced
    print("identify:", names[found.id] if found else "nobody", f"(score {found.score:.3f})" if found else "")
