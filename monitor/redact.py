"""Keep the secrets of notification URLs out of logs, reports and the database.

Apprise renders every URL in a "privacy" form that masks passwords and
tokens. Whatever part of the real URL does not appear in that form is taken
for a secret and masked wherever an error message might repeat it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "***"

# Parts shorter than this are not masked: they are scheme names, ports or
# flags, and masking them would garble every message.
_MIN_SECRET = 4
_SEPARATORS = re.compile(r"[/:@?&=#,+;\s]+")


def url_secrets(url: str, shown: str) -> set[str]:
    """The parts of *url* that its privacy form *shown* does not reveal."""
    visible = set(_SEPARATORS.split(unquote(shown)))
    found: set[str] = set()
    for part in _SEPARATORS.split(url):
        for form in (part, unquote(part)):
            if len(form) >= _MIN_SECRET and form not in visible:
                found |= {form, quote(form, safe="")}
    return found


class Redactor:
    """Masks known secret strings in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets |= {s for s in secrets if len(s) >= _MIN_SECRET}

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the records passing through."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self.redactor.secrets:
            record.msg = self.redactor.redact(record.getMessage())
            record.args = None
        return True
