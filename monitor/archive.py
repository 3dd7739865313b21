"""The raw archive: every downloaded body, stored once under its SHA-256.

Files are written to a temporary name and renamed into place, so a crash never
leaves a half-written file under a final name, and an existing file is never
opened for writing again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from monitor.sniff import EXTENSIONS, Kind, sniff

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Blob:
    """One archived body."""

    sha256: str
    size: int
    kind: Kind
    path: Path


class Archive:
    """Content-addressed files below ``root`` (``<root>/ab/abcdef….docx``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> Blob:
        """Store *data* unless the same bytes are already archived.

        An archived file whose bytes no longer hash to its name (damaged on
        disk) is replaced by the good bytes just downloaded.
        """
        digest = hashlib.sha256(data).hexdigest()
        kind = sniff(data)
        path = self.path_for(digest, kind)
        if path.exists():
            if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                return Blob(digest, len(data), kind, path)
            logger.warning("Repairing damaged archive file %s", path.name)

        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # mkstemp makes the file private; archived lists are public data
            # and readable like the database beside them.
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

        logger.debug("Archived %s (%d bytes)", digest, len(data))
        return Blob(digest, len(data), kind, path)

    def path_for(self, digest: str, kind: Kind) -> Path:
        return self.root / digest[:2] / f"{digest}{EXTENSIONS.get(kind, '.bin')}"

    def read(self, digest: str, kind: Kind | str) -> bytes:
        """Return the archived bytes and check they still hash to *digest*."""
        data = self.path_for(digest, Kind(kind)).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"archived file {digest} is corrupted")
        return data


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
