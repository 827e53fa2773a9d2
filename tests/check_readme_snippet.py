#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ctest readme_snippet: the README's library program is docs/examples/compare_palms.cpp without its
SPDX line, byte for byte (the ctest readme_example builds and runs that file), so they cannot drift."""
import re
import sys

readme_path, example_path = sys.argv[1], sys.argv[2]
with open(readme_path, encoding="utf-8") as f:
    readme = f.read()
with open(example_path, encoding="utf-8") as f:
    example = f.read()
first, _, body = example.partition("\n")
if not first.startswith("// SPDX-License-Identifier:"):
    sys.exit(f"{example_path}: the first line is not the SPDX header")
blocks = re.findall(r"^```cpp\n(.*?)^```$", readme, flags=re.S | re.M)
programs = [b for b in blocks if "int main(" in b]
if len(programs) != 1:
    sys.exit(f"{readme_path}: expected exactly one ```cpp block with a main(), found {len(programs)}")
if programs[0] != body:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(body.splitlines(True), programs[0].splitlines(True),
                                               example_path, readme_path))
    sys.exit(f"{readme_path}: the library program differs from {example_path} (diff above)")
print("README snippet == docs/examples/compare_palms.cpp")
