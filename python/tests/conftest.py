# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: synthetic palms from the virtual sensor (no real images are needed)."""
import pytest

import palmvein


def capture_templates(palm: int, count: int, hand: str = "L", start: int = 0) -> list:
    """`count` templates of one synthetic palm (virtual sensor captures start, start+1, ...)."""
    extractor = palmvein.TemplateExtractor()
    out = []
    with palmvein.open_sensor(f"virtual:?palm={palm}&hand={hand}&start={start}") as sensor:
        while len(out) < count:
            result = extractor.extract(sensor.grab())
            if result.ok:
                out.append(result.template)
    return out


@pytest.fixture(scope="session")
def palms():
    """{palm: [3 templates]} for 8 synthetic left palms."""
    return {p: capture_templates(p, 3) for p in range(8)}
