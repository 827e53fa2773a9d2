#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every source, build and script file of palmvein names its licence (SPDX) near its top.

  check_spdx.py SOURCE_DIR
"""
import os, sys

root = sys.argv[1]
folders = ["lib", "drivers", "apps", "tests", "benchmarks", "fuzz", "scripts", "cmake", ".ci"]
suffixes = (".cpp", ".hpp", ".h", ".c", ".py", ".sh", ".cmake", ".in")
skip = (os.path.join("fuzz", "corpus"), os.path.join("tests", "core", "golden"))
missing = []
for top in ["CMakeLists.txt"] + folders:
    path = os.path.join(root, top)
    walk = [(root, [], [top])] if os.path.isfile(path) else os.walk(path)
    for folder, _, files in walk:
        rel = os.path.relpath(folder, root)
        if rel.startswith(skip):
            continue
        for name in files:
            if not (name.endswith(suffixes) or name == "CMakeLists.txt" or rel == ".ci"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                head = "".join(f.readline() for _ in range(3))
            if "SPDX-License-Identifier: Apache-2.0" not in head:
                missing.append(os.path.normpath(os.path.join(rel, name)))
for m in missing:
    print("no SPDX-License-Identifier: Apache-2.0 in the first lines of", m)
print("%d files without a licence header" % len(missing))
sys.exit(1 if missing else 0)
