"""Shared fixtures: the CAC replica and an independent reader of the real lists."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest

from crawler.replica.lists import cancel_notices, genai_documents, relist_documents
from crawler.replica.series import load_timeline
from crawler.replica.server import Replica
from monitor.diff import EVENT_KINDS
from monitor.job import RunOutcome, run_job
from monitor.store import Store

FILES = Path(__file__).parent.parent / "crawler" / "replica" / "files"
INVENTORY = Path(__file__).parent / "data" / "attachment_inventory.csv"

BEFORE = dt.date(2026, 4, 30)
AFTER = dt.date(2026, 5, 31)

# Lists published by BEFORE, one batch per attachment link: 17 algorithm lists,
# 16 deep-synthesis batches, 16 generative-AI lists (10 on the growing page, 6
# linked from dated announcements, four of which repeat a list of the page) and
# 5 cancellation notices.
BATCHES_PER_SERIES = {
    "algorithm": 17,
    "deep_synthesis": 16,
    "generative_ai": 16,
    "cancellation": 5,
}
BATCHES_AFTER_LOAD = sum(BATCHES_PER_SERIES.values())

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def inventory() -> list[dict[str, str]]:
    with INVENTORY.open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def attachment_file(title: str) -> Path:
    return FILES / f"{title}.docx"


def read_list(path: Path) -> list[dict[str, str]]:
    """Rows of a real list read with zipfile and ElementTree only.

    Deliberately independent of cacwatch's parser, so tests compare two
    readings rather than one reading with itself.
    """
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("word/document.xml"))
    table = root.find(f".//{_W}tbl")
    assert table is not None
    rows = []
    for tr in table.findall(f"{_W}tr"):
        cells = [
            "".join(t.text or "" for t in tc.iter(f"{_W}t"))
            for tc in tr.findall(f"{_W}tc")
        ]
        rows.append(cells)
    header = [re.sub(r"\s", "", cell) for cell in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if any(row)]


def registrant_key(name: str) -> str:
    squashed = re.sub(
        r"[\s\u200b\u200c\u200d\u2060\ufeff]", "", unicodedata.normalize("NFKC", name)
    )
    unified = squashed.translate(str.maketrans("〔〕［］[]", "()()()"))
    # Company-suffix variants of one company (docs/fields.md).
    unified = unified.replace("(集团)", "")
    return re.sub(r"(有限责任公司|股份有限公司)$", "有限公司", unified)


def filing_key(number: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", number))


@dataclass
class Expected:
    """What the site newly shows between two days, read without cacwatch's parsers.

    The series-A and B lists are read with ``read_list``; the generative-AI and
    cancellation lists from the ground-truth rows their generator wrote.
    """

    listed_filings: set[str] = field(default_factory=set)  # new in any increment
    series_filings: dict[str, set[str]] = field(default_factory=dict)
    registrants: set[str] = field(default_factory=set)
    cancellations: set[str] = field(default_factory=set)
    # New filings whose registrant was listed before (new filings by a known
    # registrant).
    by_known_registrants: set[str] = field(default_factory=set)

    @property
    def event_count(self) -> int:
        return (
            len(self.listed_filings) + len(self.registrants) + len(self.cancellations)
        )


def _increments() -> list[tuple[str, date, list[tuple[str, str]]]]:
    """(series, release day, [(filing key, registrant key)]) of every increment list."""
    lists = []
    timeline = load_timeline()
    for series in ("algorithm", "deep_synthesis"):
        for publication in timeline.series(series):
            for attachment in publication.attachments:
                rows = read_list(attachment.path)
                pairs = [
                    (filing_key(r["备案编号"]), registrant_key(r["主体名称"]))
                    for r in rows
                ]
                lists.append((series, attachment.released, pairs))
    for document in genai_documents():
        pairs = [
            (filing_key(str(r["filing_no"])), registrant_key(str(r["entity_name"])))
            for r in document.expected_rows()
        ]
        lists.append(("generative_ai", document.released, pairs))
    return lists


def expected_changes(before: date = BEFORE, after: date = AFTER) -> Expected:
    """New filings, registrants and cancellations between *before* and *after*."""
    increments = _increments()
    earlier_filings: set[str] = set()
    earlier_entities: set[str] = set()
    for _, released, pairs in increments:
        if released <= before:
            earlier_filings |= {f for f, _ in pairs}
            earlier_entities |= {e for _, e in pairs}
    for document in relist_documents():
        if document.released <= before:
            rows = document.expected_rows()
            earlier_filings |= {filing_key(str(r["filing_no"])) for r in rows}
            earlier_entities |= {registrant_key(str(r["entity_name"])) for r in rows}

    expected = Expected()
    for series, released, pairs in increments:
        if before < released <= after:
            new = {f for f, _ in pairs} - earlier_filings
            expected.series_filings.setdefault(series, set()).update(new)
            expected.listed_filings |= new
            expected.registrants |= {e for _, e in pairs} - earlier_entities
            expected.by_known_registrants |= {
                f for f, e in pairs if f in new and e in earlier_entities
            }

    cancelled_before: set[str] = set()
    for notice in cancel_notices():
        keys = {
            filing_key(str(r["filing_no"])) for r in notice.document.expected_rows()
        }
        if notice.published <= before:
            cancelled_before |= keys
        elif notice.published <= after:
            expected.cancellations |= keys - cancelled_before
    return expected


# The events of the diff, as opposed to those the analytics add after it.
DIFF_EVENTS = "kind in ({})".format(", ".join(f"'{kind}'" for kind in EVENT_KINDS))


def diff_event_count(state: Path, run_id: str) -> int:
    """How many events of the diff's kinds *run_id* recorded."""
    store = Store(state, readonly=True)
    try:
        return int(
            store.scalar(
                f"select count(*) from events where run_id = ? and {DIFF_EVENTS}",
                [run_id],
            )
        )
    finally:
        store.close()


def run(replica: Replica, state: Path) -> RunOutcome:
    return run_job(replica.base_url, state, beian=replica.beian_url, delay=0)


@pytest.fixture(autouse=True)
def _no_real_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's defaults at loopback: no test may reach CAC's hosts."""
    monkeypatch.setenv("CACWATCH_SITE", "http://127.0.0.1:9")
    monkeypatch.setenv("CACWATCH_BEIAN", "http://127.0.0.1:9")


@pytest.fixture
def replica() -> Iterator[Replica]:
    with Replica(BEFORE) as site:
        yield site


@pytest.fixture(scope="session")
def loaded_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after the initial load of the site as of 2026-04-30."""
    state = tmp_path_factory.mktemp("loaded") / "state"
    with Replica(BEFORE) as site:
        outcome = run(site, state)
    assert outcome.kind == "initial_load"
    assert outcome.status == "ok"
    return state


@pytest.fixture
def state(loaded_state: Path, tmp_path: Path) -> Path:
    """A private copy of the initially loaded data directory."""
    copy = tmp_path / "state"
    shutil.copytree(loaded_state, copy)
    return copy


@pytest.fixture(scope="session")
def full_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after the initial load of the site as of 2026-05-31.

    The replica's latest day: every real list the replica serves is loaded.
    """
    state = tmp_path_factory.mktemp("full") / "state"
    with Replica(AFTER) as site:
        outcome = run(site, state)
    assert outcome.kind == "initial_load"
    assert outcome.status == "ok"
    return state


@pytest.fixture(scope="session")
def updated_state(
    loaded_state: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunOutcome]:
    """The state of 2026-04-30 updated by a run against the site of 2026-05-31."""
    state = tmp_path_factory.mktemp("updated") / "state"
    shutil.copytree(loaded_state, state)
    with Replica(BEFORE) as site:
        site.as_of = AFTER
        outcome = run(site, state)
    assert outcome.kind == "update"
    return state, outcome
