#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The tool, the demo and the Python bindings are built as any application of palmvein would be: every
quoted #include names a public header (lib/include, drivers/include), the internal palmvein_tools
target (lib/tools/include), or a file of the program's own folder (apps/palmvein for the demo, which
shares the CLI's gallery code). Nothing of lib/src or drivers/src (issue #10).

  check_app_includes.py SOURCE_DIR
"""
import os, re, sys

root = sys.argv[1]
programs = {  # folder -> the folders its quoted includes may come from, besides the public ones
    "apps/palmvein": ["apps/palmvein"],
    "apps/demo": ["apps/demo", "apps/palmvein"],
    "python/src": ["python/src"],
}
public = ["lib/include", "drivers/include", "lib/tools/include"]
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
bad, seen = [], 0
for folder, own in programs.items():
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for name in files:
            if not name.endswith((".cpp", ".hpp", ".h")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = include.match(line)
                    if not m:
                        continue
                    seen += 1
                    target = m.group(1)
                    if ".." in target.split("/") or not any(
                            os.path.isfile(os.path.join(root, d, target)) for d in public + own):
                        bad.append("%s:%d: #include \"%s\" is not a public header, palmvein_tools or the "
                                   "program's own file" % (os.path.relpath(path, root), number, target))
for b in bad:
    print(b)
print("%d quoted includes checked, %d outside the installed headers" % (seen, len(bad)))
sys.exit(1 if bad else 0)
