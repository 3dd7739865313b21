"""Tell what a downloaded body is from its first bytes, never from its name."""

from __future__ import annotations

import enum
import io
import zipfile


class Kind(enum.StrEnum):
    """What a body holds, as far as its bytes tell."""

    EMPTY = "empty"
    DOCX = "docx"
    XLSX = "xlsx"
    PDF = "pdf"
    OLE = "ole"  # legacy .doc / .xls compound file
    ZIP = "zip"  # a zip that is neither docx nor xlsx
    HTML = "html"
    UNKNOWN = "unknown"


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(data: bytes) -> Kind:
    """Return the kind of *data* from its magic bytes."""
    if not data.strip():
        return Kind.EMPTY

    if data.startswith(b"%PDF"):
        return Kind.PDF

    if data.startswith(_OLE_MAGIC):
        return Kind.OLE

    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)

    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return Kind.HTML

    return Kind.UNKNOWN


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return Kind.ZIP

    if "word/document.xml" in names:
        return Kind.DOCX
    if "xl/workbook.xml" in names:
        return Kind.XLSX
    return Kind.ZIP


EXTENSIONS = {
    Kind.DOCX: ".docx",
    Kind.XLSX: ".xlsx",
    Kind.PDF: ".pdf",
    Kind.OLE: ".ole",
    Kind.ZIP: ".zip",
    Kind.HTML: ".html",
}
