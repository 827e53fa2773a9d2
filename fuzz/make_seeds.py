#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the generated seed corpora under fuzz/corpus/ (run from the repository root; the files are
committed, so this is needed only when a format changes). The USB frames follow docs/usb-protocol.md
(the same layout as drivers/src/myid_usb/protocol.cpp), the gallery rows wrap the golden templates of
tests/core/golden in the input layout of fuzz/fuzz_gallery_row.cpp."""
import pathlib
import struct
import zlib

root = pathlib.Path("fuzz/corpus")


def write(target, name, data):
    folder = root / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def frame(fmt, bits, width, height, counter, pixels):
    head = struct.pack("<IBBBBIHHIHHB3xI4x", 0x31465650, 1, 40, fmt, bits, counter, width, height, 4000, 256, 850, 3,
                       len(pixels))
    crc = zlib.crc32(pixels, zlib.crc32(head))
    return head + struct.pack("<I", crc) + pixels


def info(width, height, fmt, bits, model):
    body = struct.pack("<HHHBBBB4HIIH", 1, width, height, fmt, bits, 1, 8, 850, 0, 0, 0, 100, 100000, 3000)
    return body + model.encode().ljust(36, b"\0")


# fuzz_usb_frame: byte 0 geometry (0: 8x4 gray8, 1: 4x4 gray16/12, 2: 1x1 gray8, 3: 16x8 gray16/16),
# byte 1 transfer size - 1, then the stream.
g8 = bytes((x * 7) & 0xFF for x in range(32))
g16 = b"".join(struct.pack("<H", (x * 97) & 0xFFF) for x in range(16))
write("usb_frame", "two-frames-8x4", bytes([0, 15]) + frame(1, 8, 8, 4, 1, g8) + frame(1, 8, 8, 4, 2, g8[::-1]))
write("usb_frame", "junk-then-frame-4x4-gray16", bytes([1, 6]) + b"PVF1junk" + frame(2, 12, 4, 4, 9, g16))
corrupt = bytearray(frame(1, 8, 1, 1, 5, b"\x80"))
corrupt[-1] ^= 1
write("usb_frame", "corrupt-then-good-1x1", bytes([2, 0]) + bytes(corrupt) + frame(1, 8, 1, 1, 6, b"\x7f"))
g16b = b"".join(struct.pack("<H", (x * 521) & 0xFFFF) for x in range(128))
write("usb_frame", "frame-16x8-gray16", bytes([3, 63]) + frame(2, 16, 16, 8, 1, g16b))
write("usb_frame", "info-reply", bytes([0, 63]) + info(640, 480, 1, 8, "MyID Palm P1 (model)"))
write("usb_frame", "status-reply", bytes([0, 7]) + bytes([1, 0, 0, 0]) + struct.pack("<I", 1234))

# fuzz_gallery_row: byte 0 mode (0 stored row, 1 sealed by the key holder, 2 one bit flipped),
# byte 1 hand, byte 2 id length, the id, the row.
for i, golden in enumerate(sorted(pathlib.Path("tests/core/golden").glob("*.pvt"))):
    template = golden.read_bytes()
    ident = f"user-{i}".encode()
    for mode in range(3):
        write("gallery_row", f"{golden.stem}-mode{mode}", bytes([mode, i, len(ident)]) + ident + template)
write("gallery_row", "utf8-id", bytes([1, 2, 12]) + "Zoë Ångström".encode()[:12] + b"PVT")

# fuzz_key_file: what write_new_key_file writes, and near misses.
hexkey = bytes(range(32)).hex()
write("key_file", "lower-newline", (hexkey + "\n").encode())
write("key_file", "upper", hexkey.upper().encode())
write("key_file", "crlf", (hexkey + "\r\n").encode())
write("key_file", "short", hexkey[:63].encode())
