"""Parsers that pull filing rows out of attachments, chosen by the bytes they get."""

from __future__ import annotations

import io
import zipfile

from monitor.parsers.docx import parse_docx
from monitor.parsers.office import parse_ole
from monitor.parsers.pdf import parse_pdf
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus
from monitor.parsers.xlsx import parse_xlsx
from monitor.sniff import Kind, sniff

__all__ = ["ParseStatus", "ParsedDocument", "ParsedRow", "parse_attachment"]

# Bumped whenever a parser changes what it extracts, so that stored batches can
# tell which parser produced them.
PARSER_VERSION = "docx-1+pdf-1+xlsx-1+xls-1"


def parse_attachment(data: bytes) -> ParsedDocument:
    """Parse one attachment, choosing the parser from its magic bytes."""
    kind = sniff(data)
    if kind is Kind.DOCX:
        return parse_docx(data)

    if kind is Kind.PDF:
        return parse_pdf(data)

    if kind is Kind.XLSX:
        return parse_xlsx(data)

    if kind is Kind.OLE:
        # Legacy .xls and .doc files, and password-protected Office files.
        return parse_ole(data, parse_attachment)

    if kind is Kind.ZIP and not _is_zip(data):
        return ParsedDocument(
            status=ParseStatus.UNREADABLE,
            message="a damaged zip container: the file is cut short or corrupt",
        )

    if kind is Kind.EMPTY:
        return ParsedDocument(ParseStatus.UNREADABLE, "the file is empty")

    return ParsedDocument(
        status=ParseStatus.UNSUPPORTED_FORMAT,
        message=f"no parser reads {kind.value} attachments",
    )


def _is_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)):
            return True
    except zipfile.BadZipFile:
        return False
