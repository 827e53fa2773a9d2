# SPDX-License-Identifier: Apache-2.0
"""palmvein: palm-vein recognition from Python (numpy in, numpy out).

The C++ core does the work (extraction, matching, 1:N search); this package is a thin layer over it,
and releases the GIL in extraction, search and capture. See docs/python.md.

    import numpy, palmvein
    extractor = palmvein.TemplateExtractor()
    result = extractor.extract(frame_array)          # 2-D uint8/uint16 numpy array
    if not result.ok:
        print(result.failure.code, result.failure.guidance)
    score = palmvein.match(result.template, other_template)

Errors are palmvein.Error and its subclasses (FormatError, InvalidArgument, IoError, GalleryError,
DeviceError), with the messages of the C++ library.
"""
from ._palmvein import *  # noqa: F401,F403  (the extension's public names)
from ._palmvein import __version__, Calibration, ImageKind, Template  # noqa: F401

import hashlib as _hashlib


def identity_key(identity: str, hand: "Hand" = None) -> int:  # noqa: F405
    """A stable 64-bit key of an identity (id, hand): the first 8 bytes of BLAKE2b, little-endian.

    The same on every machine and Python process (unlike hash()); palmvein.cluster shards by it.
    """
    code = "U" if hand is None else hand.code
    digest = _hashlib.blake2b(identity.encode("utf-8") + b"\0" + code.encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def threshold_for_fmr(fmr: float) -> float:
    """The builtin calibration's score threshold for a false-match rate (e.g. 1e-4)."""
    return Calibration.builtin().threshold_for_fmr(fmr)
