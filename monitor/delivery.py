"""Deliver what the runs found: queue digests, send them, write the feeds.

Runs after every job run and by ``cacwatch deliver``. One process delivers
at a time (an flock on ``delivery.lock`` in the data directory), so a row
found ``sending`` was left by a process that died, and is sent again.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor import outbox
from monitor.channels import Channel, open_channels, send
from monitor.config import ConfigError, DeliveryConfig, load_config
from monitor.feeds import write_feeds
from monitor.redact import RedactingFilter, Redactor
from monitor.store import Store

logger = logging.getLogger(__name__)

LOCK_NAME = "delivery.lock"


class DeliveryBusy(Exception):
    """Another process is delivering from the same data directory."""


@dataclass
class DeliveryResult:
    subscriptions: int = 0
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # rows of channels no longer configured
    feeds: list[Path] = field(default_factory=list)


def deliver(
    state_dir: Path, config_file: Path | None = None, *, force: bool = False
) -> DeliveryResult:
    """Queue, send and publish for the data directory *state_dir*.

    *force* sends pending rows now, whatever their backoff says.
    Raises ``ConfigError`` for a bad configuration and ``DeliveryBusy``.
    """
    config = load_config(state_dir, config_file)
    if not config.subscriptions:
        # Nothing to queue or publish: leave the data directory untouched.
        return DeliveryResult()

    redactor = Redactor()
    channels = {
        (channel.subscription, channel.key): channel
        for subscription in config.subscriptions
        for channel in open_channels(subscription, redactor)
    }
    with _delivery_lock(state_dir), _redacted_apprise_logs(redactor):
        store = Store(state_dir)
        try:
            return _deliver(store, config, channels, redactor, force=force)
        finally:
            store.close()


def check_config(state_dir: Path, config_file: Path | None = None) -> None:
    """Raise ``ConfigError`` now for a configuration delivery could not use."""
    config = load_config(state_dir, config_file)
    for subscription in config.subscriptions:
        open_channels(subscription, Redactor())


def deliver_after_run(state_dir: Path, config_file: Path | None) -> None:
    """Deliver after a run; a delivery problem is logged, never fails the run.

    The outbox keeps whatever could not be sent for ``cacwatch deliver`` or
    the next run.
    """
    try:
        deliver(state_dir, config_file)
    except (ConfigError, DeliveryBusy) as exc:
        logger.error("Delivery skipped: %s", exc)
    except Exception:
        logger.exception("Delivery failed")


def _deliver(
    store: Store,
    config: DeliveryConfig,
    channels: dict[tuple[str, str], Channel],
    redactor: Redactor,
    *,
    force: bool,
) -> DeliveryResult:
    result = DeliveryResult(subscriptions=len(config.subscriptions))
    for subscription in config.subscriptions:
        for channel in channels.values():
            if channel.subscription == subscription.name:
                result.queued += outbox.enqueue(
                    store, subscription, channel.key, channel.shown
                )

    for row in outbox.due(store, force=force):
        found = channels.get((row["subscription"], row["channel_key"]))
        if found is None:
            result.skipped += 1
            continue
        _send_row(store, config, found, row, redactor, result)

    # Digests that failed before and wait for their backoff are still to retry,
    # whether or not this call tried them.
    result.retrying = int(
        store.scalar(
            "select count(*) from outbox where status = ? and attempts > 0",
            [outbox.PENDING],
        )
    )
    result.feeds = write_feeds(store, config)
    logger.info(
        "Delivery done (%d queued, %d sent, %d retrying, %d failed)",
        result.queued,
        result.sent,
        result.retrying,
        result.failed,
    )
    return result


def _send_row(
    store: Store,
    config: DeliveryConfig,
    channel: Channel,
    row: dict[str, Any],
    redactor: Redactor,
    result: DeliveryResult,
) -> None:
    row_id = str(row["id"])
    outbox.claim(store, row_id)
    digest = outbox.rebuild(store, row)

    try:
        ok, log = send(channel, digest)
    except Exception as exc:  # a plugin failing in its own way
        ok, log = False, f"{type(exc).__name__}: {exc}"

    if ok:
        outbox.mark_sent(store, row_id)
        result.sent += 1
        return
    error = redactor.redact(_last_problem(log) or "the service refused the message")
    status = outbox.mark_failed(store, row, error, config)
    logger.warning("Delivery to %s failed: %s", channel.shown, error)
    if status == outbox.FAILED:
        result.failed += 1


def _last_problem(log: str) -> str:
    """The last warning or error Apprise logged, without its time stamp."""
    lines = [line for line in log.splitlines() if line.strip()]
    problems = [
        line for line in lines if " - WARNING - " in line or " - ERROR - " in line
    ]
    chosen = problems or lines
    if not chosen:
        return ""
    return " | ".join(line.split(" - ", 2)[-1] for line in chosen[-2:])


@contextmanager
def _delivery_lock(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DeliveryBusy(
                f"another cacwatch process is delivering from {state_dir}"
            ) from exc
        yield
    finally:
        os.close(handle)


@contextmanager
def _redacted_apprise_logs(redactor: Redactor) -> Iterator[None]:
    """Mask channel secrets in whatever Apprise logs while delivering."""
    apprise_logger = logging.getLogger("apprise")
    masking = RedactingFilter(redactor)
    apprise_logger.addFilter(masking)
    try:
        yield
    finally:
        apprise_logger.removeFilter(masking)
