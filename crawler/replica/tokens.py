"""Opaque ``filepath`` tokens for download links.

The real site's ``downloadfile.jsp?filepath=`` value is an encrypted storage path
in base64 with ``~`` for ``+``: a long shared head, a per-file middle and a shared
tail, so it contains ``~``, ``/`` and ``=``. The replica makes tokens of the same
shape from a hash, so they are stable across runs and carry the same characters a
crawler has to pass through unchanged.
"""

from __future__ import annotations

import base64
import hashlib

# 15 bytes: a multiple of 3, so the per-file part starts on a base64 boundary.
_HEAD = hashlib.sha256(b"cacwatch replica storage").digest()[:15]
# 0xfb 0xff 0xbf encodes as "+/+/" (→ "~/~/"); the last two bytes force one "=".
_TAIL = b"\xfb\xff\xbf\x52\x8a"


def filepath_token(key: str) -> str:
    """Return the deterministic ``filepath`` token of a stored file name."""
    middle = hashlib.sha256(key.encode("utf-8")).digest()[:30]
    encoded = base64.b64encode(_HEAD + middle + _TAIL).decode("ascii")
    return encoded.replace("+", "~")


def file_key(token: str) -> str:
    """Return the hex name under which a redirected download is served.

    A token holds ``/`` and ``=``, so it cannot itself be a path segment.
    """
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:32]
