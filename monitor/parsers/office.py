"""Tell apart what an OLE2 compound file holds, and open the protected ones.

Three unrelated things share the OLE2 signature: a legacy .xls workbook, a
legacy .doc document, and any Office 2007+ file saved with a password, whose
zip is then wrapped, encrypted, in an OLE2 container. Reading the stream names
tells them apart. Files "protected" only against editing are encrypted with
Excel's well-known default password, which Office applies silently; those are
opened the same way, and only a file that needs a real password is refused.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Callable
from xml.parsers.expat import ExpatError

import msoffcrypto
import olefile
from msoffcrypto.exceptions import DecryptionError, FileFormatError, InvalidKeyError

from monitor.parsers.result import ParsedDocument, ParseStatus
from monitor.parsers.xls import EncryptedWorkbook, parse_xls

logger = logging.getLogger(__name__)


class DamagedContainer(Exception):
    """The encrypted container is cut short or corrupt."""


# The password Excel uses for workbooks protected against editing only.
DEFAULT_PASSWORD = "VelvetSweatshop"


def parse_ole(
    data: bytes, parse_zip: Callable[[bytes], ParsedDocument]
) -> ParsedDocument:
    """Parse an OLE2 file; *parse_zip* reads what an encrypted package holds."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
    except OSError as error:
        return ParsedDocument(ParseStatus.UNREADABLE, f"a damaged OLE2 file: {error}")

    if {"EncryptionInfo", "EncryptedPackage"} <= streams:
        try:
            plain = _decrypt(data)
        except DamagedContainer as error:
            return ParsedDocument(
                ParseStatus.UNREADABLE, f"a damaged encrypted Office file: {error}"
            )
        if plain is None:
            return _password_required("an encrypted Office file")
        logger.info("Opened an encrypted file with the default password")
        return parse_zip(plain)

    if "Workbook" in streams or "Book" in streams:
        try:
            return parse_xls(data)
        except EncryptedWorkbook:
            try:
                plain = _decrypt(data)
            except DamagedContainer as error:
                return ParsedDocument(
                    ParseStatus.UNREADABLE, f"a damaged encrypted workbook: {error}"
                )
            if plain is None:
                return _password_required("an encrypted .xls workbook")
            return parse_xls(plain)

    if "WordDocument" in streams:
        return ParsedDocument(
            ParseStatus.UNSUPPORTED_FORMAT,
            "a legacy Word .doc document: no parser reads it; convert it to .docx",
        )

    return ParsedDocument(
        ParseStatus.UNSUPPORTED_FORMAT,
        f"an OLE2 file of unknown content (streams: {', '.join(sorted(streams))})",
    )


def _decrypt(data: bytes) -> bytes | None:
    """The file decrypted with the default password, or None if that fails."""
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=DEFAULT_PASSWORD)
        plain = io.BytesIO()
        office.decrypt(plain)
    except (InvalidKeyError, DecryptionError, FileFormatError) as error:
        logger.info("Default password does not open the file: %s", error)
        return None
    except (ValueError, struct.error, ExpatError, OSError) as error:
        # What msoffcrypto meets in a container cut short or damaged.
        raise DamagedContainer(str(error)) from error
    return plain.getvalue()


def _password_required(what: str) -> ParsedDocument:
    return ParsedDocument(
        ParseStatus.ENCRYPTED,
        f"{what}: a password is needed to open it; the file is kept in the archive",
    )
