"""Notification channels: one Apprise URL each, sending digests with an identity.

Every digest carries a deterministic identity (``Digest.key``) so that a
receiver can drop a second copy: the ``Message-ID`` of an email, the
``Idempotency-Key`` header and ``idempotency_key`` field of a JSON webhook,
and an ``X-Cacwatch-Digest`` header wherever the service takes headers.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import apprise
import apprise.plugins.email.base as apprise_email

from monitor.config import ConfigError, Subscription
from monitor.digest import Digest
from monitor.redact import Redactor, url_secrets

logger = logging.getLogger(__name__)

# Test-only: kill the process right after the first successful send, before
# the outbox records it, to show that a rerun sends the same identity again.
CRASH_AFTER_SEND = "CACWATCH_TEST_CRASH_AFTER_SEND"

# Kept in memory only: cacwatch's own outbox is the record of what was sent.
_ASSET = apprise.AppriseAsset(storage_mode="memory")


@dataclass
class Channel:
    subscription: str
    instance: Any  # an apprise plugin (apprise.plugins.NotifyBase)
    shown: str  # the URL as Apprise prints it, secrets masked
    key: str

    @property
    def is_email(self) -> bool:
        return isinstance(self.instance, apprise_email.NotifyEmail)


def message_id(key: str) -> str:
    """The Message-ID of the email of the digest *key*."""
    return f"<{key}@cacwatch>"


def open_channels(subscription: Subscription, redactor: Redactor) -> list[Channel]:
    """The channels of *subscription*; their secrets are added to *redactor*."""
    channels = []
    for number, url in enumerate(subscription.urls, start=1):
        instance = apprise.Apprise.instantiate(url, asset=_ASSET)
        if instance is None:
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise ConfigError(
                f"subscription {subscription.name!r}: notification URL "
                f"#{number} ({scheme}://…) is not a URL Apprise can use"
            )
        shown = str(instance.url(privacy=True))  # type: ignore[no-untyped-call]
        redactor.add(url_secrets(url, shown))
        key = hashlib.sha256(shown.encode()).hexdigest()[:16]
        channels.append(Channel(subscription.name, instance, shown, key))
    return channels


def send(channel: Channel, digest: Digest) -> tuple[bool, str]:
    """Send *digest* through *channel*; return success and what Apprise logged."""
    _label(channel, digest.key)
    with (
        apprise.LogCapture(level=logging.INFO) as captured,  # type: ignore[no-untyped-call]
        _message_id(channel, digest.key),
    ):
        ok = bool(
            channel.instance.notify(
                body=digest.body,
                title=digest.subject,
                body_format=apprise.NotifyFormat.TEXT,
            )
        )
    if ok and os.environ.get(CRASH_AFTER_SEND) == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    return ok, str(captured.getvalue())


def _label(channel: Channel, key: str) -> None:
    headers = getattr(channel.instance, "headers", None)
    if isinstance(headers, dict):
        headers["X-Cacwatch-Digest"] = key
        if not channel.is_email:
            headers["Idempotency-Key"] = key
    extras = getattr(channel.instance, "payload_extras", None)
    if isinstance(extras, dict):
        extras["idempotency_key"] = key


@contextmanager
def _message_id(channel: Channel, key: str) -> Iterator[None]:
    """Give an email the digest's Message-ID.

    Apprise's email plugin draws a random Message-ID (``make_msgid``) and takes
    no other; while this digest is sent, that function returns the digest's.
    Delivery runs in one thread, under the delivery lock.
    """
    original = vars(apprise_email).get("make_msgid")
    if not channel.is_email or original is None:
        yield
        return

    # setattr: the module does not export the name it imported.
    fixed = functools.partial(_fixed_message_id, key)
    setattr(apprise_email, "make_msgid", fixed)  # noqa: B010
    try:
        yield
    finally:
        setattr(apprise_email, "make_msgid", original)  # noqa: B010


def _fixed_message_id(key: str, *args: Any, **kwargs: Any) -> str:
    # Not from the SMTP host: the identity must survive a change of server.
    return message_id(key)
