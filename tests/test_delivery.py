"""Alerts: one digest per batch and subscription, exactly once, through real
Apprise plugins to a real SMTP server and a real webhook on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from crawler.replica.server import Replica
from monitor.channels import CRASH_AFTER_SEND, message_id
from monitor.cli import cli
from monitor.delivery import deliver
from monitor.digest import digest_key
from monitor.job import run_job
from monitor.store import Store
from tests.conftest import AFTER
from tests.receivers import free_port, smtp_server, webhook_server

ROOT = Path(__file__).parent.parent
SECRET = "Pa55-w0rd-XYZ"
LIST_NAME = "境内深度合成服务算法备案清单（2026年5月）"
# The analytics of the list follow the counts of the diff.
DEEP_SUBJECT = (
    "Deep-synthesis batch 17: 608 new filings, 401 new registrants, "
    "2 province shifts, 28 watchlist hits"
)


def mail_url(port: int) -> str:
    return (
        f"mailto://127.0.0.1:{port}?from=cacwatch@example.org"
        "&to=desk@example.org&format=text"
    )


def write_config(path: Path, subscriptions: dict[str, dict[str, list[str]]]) -> Path:
    lines = []
    for name, settings in subscriptions.items():
        lines.append(f"[subscriptions.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def updated_state(loaded_state: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The loaded state after the run that reads the site as of 2026-05-31."""
    state = tmp_path_factory.mktemp("updated") / "state"
    shutil.copytree(loaded_state, state)
    with Replica(AFTER) as site:
        outcome = run_job(site.base_url, state, beian=site.beian_url, delay=0)
    assert outcome.kind == "update"
    return state


@pytest.fixture
def news(updated_state: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "state"
    shutil.copytree(updated_state, copy)
    return copy


def batches_with_events(state: Path) -> set[int]:
    store = Store(state)
    try:
        return {row["batch_id"] for row in store.query("select batch_id from events")}
    finally:
        store.close()


def outbox_rows(state: Path) -> list[dict[str, Any]]:
    store = Store(state)
    try:
        return store.query("select * from outbox order by id")
    finally:
        store.close()


def test_a_run_sends_one_digest_per_batch_and_subscription(
    replica: Replica, state: Path, tmp_path: Path
) -> None:
    with smtp_server() as (mailbox, smtp_port), webhook_server() as hook:
        config = write_config(
            tmp_path / "cacwatch.toml",
            {
                "desk": {"urls": [mail_url(smtp_port)], "series": ["deep_synthesis"]},
                "everything": {"urls": [f"json://127.0.0.1:{hook.port}/hook"]},
            },
        )
        replica.as_of = AFTER
        run_job(
            replica.base_url, state, beian=replica.beian_url, delay=0, config=config
        )
        again = deliver(state, config)

    batches = batches_with_events(state)
    assert len(batches) == 4
    assert again.queued == 0
    assert again.sent == 0

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    (deep_batch,) = {
        row["batch_id"] for row in outbox_rows(state) if row["subscription"] == "desk"
    }
    assert str(message["Subject"]) == DEEP_SUBJECT
    assert str(message["Message-ID"]) == message_id(digest_key("desk", deep_batch))
    assert LIST_NAME in message.get_content()

    assert len(hook.received) == len(batches)
    keys = {digest_key("everything", batch) for batch in batches}
    assert hook.identities() == keys
    assert {item["body"]["idempotency_key"] for item in hook.received} == keys
    subjects = {item["body"]["title"] for item in hook.received}
    assert DEEP_SUBJECT in subjects
    assert "Cancelled filing numbers 2026-05: 5 cancellations" in subjects
    assert {row["status"] for row in outbox_rows(state)} == {"sent"}


def test_kill_between_send_and_record_then_rerun_delivers_once(
    news: Path, tmp_path: Path
) -> None:
    with smtp_server() as (mailbox, smtp_port), webhook_server() as hook:
        config = write_config(
            tmp_path / "cacwatch.toml",
            {
                "desk": {"urls": [mail_url(smtp_port)]},
                "hooks": {"urls": [f"json://127.0.0.1:{hook.port}/hook"]},
            },
        )
        command = [
            sys.executable,
            "-m",
            "monitor.cli",
            "deliver",
            "--state",
            str(news),
            "--config",
            str(config),
        ]
        env = {**os.environ, CRASH_AFTER_SEND: "1"}
        crashed = subprocess.run(command, env=env, capture_output=True, check=False)
        assert crashed.returncode == -signal.SIGKILL
        statuses = Counter(row["status"] for row in outbox_rows(news))
        assert statuses == {"pending": 7, "sending": 1}

        env.pop(CRASH_AFTER_SEND)
        rerun = subprocess.run(command, env=env, capture_output=True, check=False)
        assert rerun.returncode == 0, rerun.stderr

    rows = outbox_rows(news)
    assert {row["status"] for row in rows} == {"sent"}
    batches = batches_with_events(news)
    assert mailbox.identities() == {
        message_id(digest_key("desk", batch)) for batch in batches
    }
    assert hook.identities() == {digest_key("hooks", batch) for batch in batches}
    # The digest in flight at the kill was sent twice, with one identity.
    copies = len(mailbox.messages) + len(hook.received)
    assert copies == 2 * len(batches) + 1


def test_failing_channels_are_retried_with_backoff_and_secrets_hidden(
    news: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()
    with webhook_server(status=500) as hook:
        config = write_config(
            tmp_path / "cacwatch.toml",
            {
                "broken": {
                    "urls": [f"json://cacuser:{SECRET}@127.0.0.1:{hook.port}/hook"],
                    "series": ["cancellation"],
                },
                "closed": {
                    "urls": [f"json://bot:{SECRET}@127.0.0.1:{closed}/"],
                    "series": ["cancellation"],
                },
            },
        )
        with caplog.at_level(logging.DEBUG):
            first = deliver(news, config)
        assert (first.sent, first.retrying) == (0, 2)
        rows = outbox_rows(news)
        assert [row["attempts"] for row in rows] == [1, 1]
        assert all(row["status"] == "pending" for row in rows)
        assert all(row["last_error"] for row in rows)
        waits = {row["id"]: row["next_attempt_at"] for row in rows}

        # Not due yet: nothing is tried again until the backoff has passed,
        # and both are still to retry.
        assert deliver(news, config).retrying == 2
        assert [row["attempts"] for row in outbox_rows(news)] == [1, 1]

        forced = deliver(news, config, force=True)
        assert forced.retrying == 2
        for row in outbox_rows(news):
            assert row["attempts"] == 2
            assert str(row["next_attempt_at"]) > str(waits[str(row["id"])])

        status = CliRunner().invoke(cli, ["status", "--state", str(news)])
        assert status.exit_code == 0, status.output
        assert "2 attempts" in status.output
        assert "last error:" in status.output

        hook.status = 200
        retried = CliRunner().invoke(
            cli, ["deliver", "--now", "--state", str(news), "--config", str(config)]
        )

    assert retried.exit_code == 3  # the closed port still fails
    assert "1 sent, 1 to retry" in retried.output
    assert len(hook.received) == 3  # two refused, one accepted
    assert hook.received[-1]["headers"]["Authorization"].startswith("Basic ")

    store_text = json.dumps(outbox_rows(news), ensure_ascii=False)
    for text in (store_text, status.output, retried.output, caplog.text):
        assert SECRET not in text
    assert "***" in status.output


def test_filters_by_sector_province_and_watchlist(news: Path, tmp_path: Path) -> None:
    with webhook_server() as hook:
        config = write_config(
            tmp_path / "cacwatch.toml",
            {
                "health": {
                    "urls": [f"json://127.0.0.1:{hook.port}/health"],
                    "sectors": ["healthcare"],
                },
                "beijing": {
                    "urls": [f"json://127.0.0.1:{hook.port}/beijing"],
                    "provinces": ["北京"],
                },
                "giants": {
                    "urls": [f"json://127.0.0.1:{hook.port}/giants"],
                    "watchlists": ["big_tech"],
                },
            },
        )
        result = deliver(news, config)

    # One digest per list with an event the subscription asks for: the run
    # classified the filings, gave them provinces and matched the watchlists.
    store = Store(news)
    try:
        expected = {
            "/health": store.scalar(
                "select count(distinct e.batch_id) from events e "
                "join classifications c using (filing_key) where c.sector = ? "
                "or exists (select 1 from json_each(c.sectors) s where s.value = ?)",
                ["healthcare", "healthcare"],
            ),
            "/beijing": store.scalar(
                "select count(distinct e.batch_id) from events e "
                "join filings f using (filing_key) where f.province_code = '11'"
            ),
            "/giants": store.scalar(
                "select count(distinct e.batch_id) from events e where exists ("
                "select 1 from watchlist_hits w where w.watchlist = 'big_tech' "
                "and (w.filing_key = e.filing_key or w.entity_key = e.entity_key))"
            ),
        }
    finally:
        store.close()
    assert all(expected.values())
    assert result.sent == result.queued == sum(expected.values())
    assert Counter(item["path"] for item in hook.received) == expected
    health = next(i for i in hook.received if i["path"] == "/health")
    assert "new filing" in health["body"]["title"]


def test_a_new_channel_starts_from_the_latest_news(news: Path, tmp_path: Path) -> None:
    with webhook_server() as hook:
        config = write_config(
            tmp_path / "cacwatch.toml",
            {"late": {"urls": [f"json://127.0.0.1:{hook.port}/"]}},
        )
        with Replica(AFTER) as site:
            run_job(site.base_url, news, beian=site.beian_url, delay=0)
        deliver(news, config)

    # The run without news registered nothing; the channel gets the last run
    # that had events, not the whole history before it.
    assert len(hook.received) == 4


ATOM = "{http://www.w3.org/2005/Atom}"


def test_feeds_are_valid_atom_with_stable_entry_ids(news: Path, tmp_path: Path) -> None:
    config = tmp_path / "cacwatch.toml"
    config.write_text(
        '[feeds]\nbase_url = "https://feeds.example.org/cac/"\nentries = 1000\n\n'
        "[subscriptions.registrants]\n"
        'kinds = ["new_registrant"]\n\n'
        "[subscriptions.everything]\n",
        encoding="utf-8",
    )
    first = deliver(news, config)
    path = news / "feeds" / "registrants.xml"
    assert sorted(first.feeds) == [news / "feeds" / "everything.xml", path]
    earlier = feedparser.parse(path.read_bytes())
    deliver(news, config)
    parsed = feedparser.parse(path.read_bytes())

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "urn:cacwatch:feed:registrants"
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == ["https://feeds.example.org/cac/registrants.xml"]

    store = Store(news)
    ids = {
        f"urn:cacwatch:event:{row['id']}"
        for row in store.query("select id from events where kind = 'new_registrant'")
    }
    total = store.scalar("select count(*) from events")
    store.close()
    assert {entry.id for entry in parsed.entries} == ids
    assert [e.id for e in parsed.entries] == [e.id for e in earlier.entries]
    for entry in parsed.entries:
        assert entry.updated_parsed is not None
        assert entry.title.startswith("New registrant ")

    # Every event of the state, the analytics ones included: the feed keeps
    # the newest `entries`.
    everything = feedparser.parse((news / "feeds" / "everything.xml").read_bytes())
    assert len(everything.entries) == 1000
    assert total > len(everything.entries)

    # The elements RFC 4287 requires, read with a plain XML parser.
    root = etree.fromstring(path.read_bytes())
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None
    for entry in root.iter(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}") is not None


def test_a_digest_is_given_up_after_the_last_attempt(
    news: Path, tmp_path: Path
) -> None:
    config = tmp_path / "cacwatch.toml"
    config.write_text(
        "[delivery]\nmax_attempts = 2\n\n[subscriptions.closed]\n"
        f'urls = ["json://127.0.0.1:{free_port()}/"]\nkinds = ["cancellation"]\n',
        encoding="utf-8",
    )

    assert deliver(news, config).retrying == 1
    assert deliver(news, config, force=True).failed == 1
    assert deliver(news, config, force=True).failed == 0

    (row,) = outbox_rows(news)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert row["next_attempt_at"] is None
    status = CliRunner().invoke(cli, ["status", "--state", str(news)])
    assert "1 failed, 2 attempts, last error:" in status.output
