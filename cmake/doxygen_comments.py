#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Doxygen INPUT_FILTER: reads palmvein's public headers' plain // comments as documentation.

The headers are written in the project's style (STYLE.md: plain // comments that say what and why);
this filter shows Doxygen the same text as doc comments, so the headers need no second comment syntax:
  * the file's opening comment (after the SPDX line) becomes the file's documentation (@file);
  * a block of // lines directly above a declaration (no blank line between) documents it (///);
  * a // comment after code on the same line documents that member (///<).
A comment block followed by a blank line, or above a preprocessor line, is a section note and stays a
plain comment. Line numbers are kept (one line out per line in), so warnings point at the header.
The comments are plain text: Doxygen's command characters in them are escaped.
Usage: doxygen_comments.py HEADER (Doxygen passes the file name; the result goes to stdout).
"""
import re
import sys

COMMENT = re.compile(r"^(\s*)//(?!/)\s?(.*)$")
TRAILING = re.compile(r"^(\s*[^\s/].*?)(\s+)//(?!/)\s?(.*)$")


def plain(text: str) -> str:
    """The comment's text as Doxygen shows it: its command characters (\\ @ < >) taken literally."""
    for ch in "\\@<>":
        text = text.replace(ch, "\\" + ch)
    return text


def code_part_is_clean(code: str) -> bool:
    """The // that follows is outside a string literal (an even number of quotes before it)."""
    return code.count('"') % 2 == 0


def convert(lines: list[str]) -> list[str]:
    out = list(lines)
    i = 0
    first_block = True
    while i < len(lines):
        if not COMMENT.match(lines[i]):
            m = TRAILING.match(lines[i])
            if m and code_part_is_clean(m.group(1)) and not m.group(1).lstrip().startswith("#"):
                out[i] = f"{m.group(1)}{m.group(2)}///< {plain(m.group(3))}\n"
            if lines[i].strip():
                first_block = False
            i += 1
            continue
        start = i
        while i < len(lines) and COMMENT.match(lines[i]):
            i += 1
        block = range(start, i)
        following = lines[i] if i < len(lines) else ""
        if first_block:
            # The file's opening comment: SPDX line dropped, the rest is the file's description.
            texts = [COMMENT.match(lines[k]).group(2) for k in block]
            if len(texts) > 1 and texts[0].startswith("SPDX-License-Identifier"):
                out[start] = "/** @file\n"
                for k, text in zip(block[1:], texts[1:]):
                    out[k] = f"{plain(text)}\n"
                out[block[-1]] = out[block[-1]].rstrip("\n") + " */\n"
            first_block = False
            continue
        documents_next = following.strip() and not following.lstrip().startswith("#")
        if documents_next:
            for k in block:
                m = COMMENT.match(lines[k])
                out[k] = f"{m.group(1)}/// {plain(m.group(2))}\n"
    return out


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.readlines()
    converted = convert(lines)
    sys.stdout.write("".join(converted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
