"""The replica's publications as data, and the queries that answer "as of" a date."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from crawler.replica.tokens import filepath_token

ALGORITHM = "algorithm"
DEEP_SYNTHESIS = "deep_synthesis"
GENAI = "genai"
OTHER = "other"

ATTACHMENTS_DIR = Path(__file__).parent / "files"

# mimetypes may not know .docx on a minimal system; the table covers the formats
# the real CAC attachments come in.
_MEDIA_TYPES = {
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Attachment:
    """One downloadable file linked from a publication.

    ``label`` is the attachment's official name (the ``fText`` value, no
    extension); ``filename`` names the file under ``crawler/replica/files``.
    ``store_key``, when set, stands in for ``filename`` in the download token:
    two pages that each upload the same file get two different links.
    """

    label: str
    filename: str
    released: date
    with_ftext: bool = True
    link_text: str | None = None
    store_key: str | None = None

    @property
    def extension(self) -> str:
        return Path(self.filename).suffix.lower()

    @property
    def media_type(self) -> str:
        guessed, _ = mimetypes.guess_type(self.filename)
        return _MEDIA_TYPES.get(self.extension) or guessed or "application/octet-stream"

    @property
    def download_name(self) -> str:
        """The name the server sends in Content-Disposition."""
        return self.label + self.extension

    @property
    def path(self) -> Path:
        return ATTACHMENTS_DIR / self.filename

    @property
    def token(self) -> str:
        return filepath_token(self.store_key or self.filename)

    def is_released(self, as_of: date) -> bool:
        return self.released <= as_of


@dataclass(frozen=True)
class Publication:
    """One article page of the site, with the attachments it links."""

    series: str
    url_path: str
    title: str
    published: datetime
    body_paragraphs: tuple[str, ...]
    attachments: tuple[Attachment, ...] = ()
    in_channel: bool = True
    source: str = "中国网信网"

    def is_published(self, as_of: date) -> bool:
        return self.published.date() <= as_of

    def attachments_as_of(self, as_of: date) -> list[Attachment]:
        return [a for a in self.attachments if a.is_released(as_of)]


@dataclass(frozen=True)
class Timeline:
    """All publications, indexed for the lookups the routes make."""

    publications: tuple[Publication, ...]
    _by_path: dict[str, Publication] = field(init=False, repr=False)
    _by_token: dict[str, tuple[Publication, Attachment]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_path: dict[str, Publication] = {}
        by_token: dict[str, tuple[Publication, Attachment]] = {}

        for publication in self.publications:
            if publication.url_path in by_path:
                raise ValueError(f"duplicate page path {publication.url_path}")
            by_path[publication.url_path] = publication
            for attachment in publication.attachments:
                if attachment.token in by_token:
                    raise ValueError(f"duplicate attachment {attachment.filename}")
                by_token[attachment.token] = (publication, attachment)

        # The dataclass is frozen; the indexes are derived once here.
        object.__setattr__(self, "_by_path", by_path)
        object.__setattr__(self, "_by_token", by_token)

    @classmethod
    def of(cls, publications: Iterable[Publication]) -> Timeline:
        return cls(tuple(publications))

    def page(self, url_path: str, as_of: date) -> Publication | None:
        """Return the page at ``url_path`` if it was published by ``as_of``."""
        publication = self._by_path.get(url_path)
        if publication is None or not publication.is_published(as_of):
            return None
        return publication

    def attachment(self, token: str, as_of: date) -> Attachment | None:
        """Return the attachment behind a ``filepath`` token, if released."""
        found = self._by_token.get(token)
        if found is None:
            return None

        publication, attachment = found
        if not publication.is_published(as_of) or not attachment.is_released(as_of):
            return None
        return attachment

    def channel(self, as_of: date) -> list[Publication]:
        """Channel items published by ``as_of``, newest first."""
        items = [p for p in self.publications if p.in_channel and p.is_published(as_of)]
        # Same-minute items keep a stable order: the later article id first.
        return sorted(items, key=lambda p: (p.published, p.url_path), reverse=True)

    def series(self, name: str) -> list[Publication]:
        return [p for p in self.publications if p.series == name]
