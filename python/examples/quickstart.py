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

    threshold = palmvein.DecisionThreshold.at_fmr(1e-4)  # a false-match rate of 1 in 10,000
    claim = gallery.verify("bob", capture(1, 5), threshold)  # bob again, a later capture
    print(f"verify bob: score {claim.score:.3f}, threshold {threshold.score:.3f}:",
          "accepted" if claim.accepted else "rejected")

    answer = gallery.identify(capture(2, 7), threshold, k=3)  # carol, unannounced
    if answer.found:
        print(f"identify: {answer.identity.id} (score {answer.identity.score:.3f})")
    else:
        print("identify: nobody; best", answer.candidates[0].id if answer.candidates else "-")
