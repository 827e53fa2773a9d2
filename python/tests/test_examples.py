# SPDX-License-Identifier: Apache-2.0
"""The example in docs/python.md is python/examples/quickstart.py, and it runs."""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "python" / "examples" / "quickstart.py"


def test_the_documented_example_is_the_tested_file():
    doc = (ROOT / "docs" / "python.md").read_text()
    body = EXAMPLE.read_text().split("\n", 1)[1]  # without the SPDX line
    assert body in doc, "docs/python.md must show python/examples/quickstart.py verbatim"


def test_the_example_runs():
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert "verify bob: score" in done.stdout and "accepted" in done.stdout
    assert "identify: carol" in done.stdout
