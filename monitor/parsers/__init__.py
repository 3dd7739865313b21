"""Parsers that pull filing rows out of attachments, chosen by the bytes they get."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from monitor.parsers.docx import parse_docx
from monitor.parsers.office import parse_ole
from monitor.parsers.pdf import parse_pdf
from monitor.parsers.result import ParsedDocument, ParsedRow, ParseStatus
from monitor.parsers.xlsx import parse_xlsx
from monitor.sniff import Kind, sniff

logger = logging.getLogger(__name__)

__all__ = [
    "PARSERS",
    "ParseStatus",
    "ParsedDocument",
    "ParsedRow",
    "Parser",
    "parse_attachment",
    "parser_version",
]


@dataclass(frozen=True)
class Parser:
    """A parser for one kind of file, with the version of what it extracts.

    The version is bumped whenever the parser changes what it extracts, so that
    stored batches can tell which parser produced them and ``cacwatch reparse``
    can say which batches were read by an older one.
    """

    name: str
    version: str
    parse: Callable[[bytes], ParsedDocument]


# The parser of each file kind. ``parse_attachment`` looks its parser up here on
# every call, so a replacement registered here is used everywhere at once.
PARSERS: dict[Kind, Parser] = {
    Kind.DOCX: Parser("docx", "1", parse_docx),
    Kind.PDF: Parser("pdf", "2", parse_pdf),
    Kind.XLSX: Parser("xlsx", "1", parse_xlsx),
    # Legacy .xls and .doc files, and password-protected Office files.
    Kind.OLE: Parser("ole", "1", lambda data: parse_ole(data, parse_attachment)),
}


def parser_version() -> str:
    """The version of the registered parsers together, e.g. ``docx-1+pdf-1``."""
    return "+".join(f"{parser.name}-{parser.version}" for parser in PARSERS.values())


PARSER_VERSION = parser_version()


def parse_attachment(data: bytes) -> ParsedDocument:
    """Parse one attachment, choosing the parser from its magic bytes."""
    kind = sniff(data)
    parser = PARSERS.get(kind)
    if parser is not None:
        try:
            return parser.parse(data)
        except Exception as error:
            # The parsers name every failure they know of; anything else a
            # damaged file provokes in a library below them is still a named
            # status for this one file, never the end of a run.
            logger.exception("The %s parser failed", parser.name)
            return ParsedDocument(
                ParseStatus.UNREADABLE,
                f"the {parser.name} parser failed on this file "
                f"({type(error).__name__}: {error}); it is kept in the archive",
            )

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
