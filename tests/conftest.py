"""Shared fixtures: the CAC replica and an independent reader of the real lists."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from crawler.replica.server import Replica
from monitor.job import RunOutcome, run_job

FILES = Path(__file__).parent.parent / "crawler" / "replica" / "files"
INVENTORY = Path(__file__).parent / "data" / "attachment_inventory.csv"

BEFORE = dt.date(2026, 4, 30)
AFTER = dt.date(2026, 5, 31)

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
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", name))


def filing_key(number: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", number))


def run(replica: Replica, state: Path) -> RunOutcome:
    return run_job(replica.base_url, state, delay=0)


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
