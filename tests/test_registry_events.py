"""What happened to a filing: re-issued lists, corrections, removals, windows.

The re-issued lists are the real attachments with one cell or one row edited
(python-docx), served by the replica behind the same link from a given day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner

from crawler.replica.lists import genai_documents
from crawler.replica.series import load_timeline
from crawler.replica.server import Replica
from monitor.cli import cli
from monitor.events import EVENT_KINDS
from monitor.job import run_job
from monitor.regions import region_by_code
from monitor.sectors import classify, load_taxonomy
from monitor.store import Store
from tests.conftest import (
    AFTER,
    BEFORE,
    attachment_file,
    expected_changes,
    filing_key,
    read_list,
    registrant_key,
    run,
)

REISSUE_DAY = dt.date(2026, 5, 1)
ALGORITHM_2025_03 = "境内互联网信息服务算法备案清单（2025年3月）"
ALGORITHM_2022_08 = "境内互联网信息服务算法备案清单（2022年8月）"
MALFORMED = "网信算备1101082242366066220017号"
CORRECTED = "网信算备110108224236606220017号"
WINDOW_START = dt.date(2026, 3, 31)


def _document(title: str) -> Any:
    return docx.Document(io.BytesIO(attachment_file(title).read_bytes()))


def _columns(document: Any) -> dict[str, int]:
    header = document.tables[0].rows[0].cells
    return {"".join(cell.text.split()): i for i, cell in enumerate(header)}


def _saved(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _first_row_without_note(title: str) -> tuple[Any, Any, str]:
    document = _document(title)
    columns = _columns(document)
    for row in document.tables[0].rows[1:]:
        cells = row.cells
        if not cells[columns["备注"]].text.strip():
            return document, row, "".join(cells[columns["备案编号"]].text.split())
    raise AssertionError(f"no row without a remark in {title}")


def _reissue_run(replica: Replica, state: Path, title: str, data: bytes) -> Any:
    # Nothing else is published between the loaded day and the re-issue.
    assert expected_changes(BEFORE, REISSUE_DAY).event_count == 0
    replica.reissue(title, REISSUE_DAY, data)
    replica.as_of = REISSUE_DAY
    return run_job(
        replica.base_url, state, beian=replica.beian_url, delay=0, refetch_days=0
    )


def _events(state: Path) -> list[dict[str, Any]]:
    store = Store(state)
    try:
        return store.query("select * from events order by id")
    finally:
        store.close()


def _filing(state: Path, key: str) -> dict[str, Any]:
    store = Store(state)
    try:
        return store.query("select * from filings where filing_key = ?", [key])[0]
    finally:
        store.close()


def test_cancellation_remark_in_a_reissued_list_is_one_modification(
    replica: Replica, state: Path
) -> None:
    document, row, number = _first_row_without_note(ALGORITHM_2025_03)
    row.cells[_columns(document)["备注"]].text = "已注销"
    data = _saved(document)

    outcome = _reissue_run(replica, state, ALGORITHM_2025_03, data)

    events = _events(state)
    assert [e["kind"] for e in events] == ["modification"]
    payload = json.loads(events[0]["payload"])
    assert events[0]["filing_key"] == filing_key(number)
    assert [c["field"] for c in payload["changes"]] == ["note"]
    assert payload["changes"][0]["before"] in (None, "")
    assert payload["changes"][0]["after"] == "已注销"
    assert payload["cancellation_remark"] is True
    assert payload["attachment_sha256"] == hashlib.sha256(data).hexdigest()
    original = hashlib.sha256(attachment_file(ALGORITHM_2025_03).read_bytes())
    assert payload["previous"]["attachment_sha256"] == original.hexdigest()
    assert payload["previous"]["row"] == payload["row"]
    assert payload["reissue"] == {
        "modified": 1,
        "corrected": 0,
        "removed": 0,
        "added": 0,
    }
    assert payload["province_code"] == filing_key(number)[4:6]

    filing = _filing(state, filing_key(number))
    assert filing["cancelled_batch_id"] == events[0]["batch_id"]
    assert [s["source"] for s in json.loads(filing["cancel_sources"])] == ["remark"]
    assert "Modified filings (变更, in re-issued lists) (1)" in outcome.report
    assert "→ 已注销 (marked cancelled)" in outcome.report
    assert "New registrants" not in outcome.report

    # Running again changes nothing and records nothing twice.
    again = run_job(
        replica.base_url, state, beian=replica.beian_url, delay=0, refetch_days=0
    )
    assert again.events == 0
    assert len(_events(state)) == 1


def test_corrected_filing_number_is_one_correction(
    replica: Replica, state: Path
) -> None:
    document = _document(ALGORITHM_2022_08)
    column = _columns(document)["备案编号"]
    cell = next(
        row.cells[column]
        for row in document.tables[0].rows[1:]
        if "".join(row.cells[column].text.split()) == MALFORMED
    )
    cell.text = CORRECTED

    outcome = _reissue_run(replica, state, ALGORITHM_2022_08, _saved(document))

    events = _events(state)
    assert [e["kind"] for e in events] == ["correction"]
    payload = json.loads(events[0]["payload"])
    assert payload["before_filing_key"] == MALFORMED
    assert events[0]["filing_key"] == CORRECTED
    assert payload["changes"] == [
        {"field": "filing_no", "before": MALFORMED, "after": CORRECTED}
    ]
    assert _filing(state, MALFORMED)["corrected_to"] == CORRECTED
    assert _filing(state, CORRECTED)["algorithm_name"] == "美团配送调度决策算法"
    assert f"{MALFORMED} → {CORRECTED}" in outcome.report

    listed = CliRunner().invoke(
        cli, ["events", "--state", str(state), "--kind", "correction", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["payload"]["before_filing_key"] == MALFORMED


def test_row_removed_from_a_reissued_list_is_removed_not_cancelled(
    replica: Replica, state: Path
) -> None:
    document, row, number = _first_row_without_note(ALGORITHM_2025_03)
    row._tr.getparent().remove(row._tr)

    outcome = _reissue_run(replica, state, ALGORITHM_2025_03, _saved(document))

    events = _events(state)
    assert [e["kind"] for e in events] == ["removed_from_list"]
    assert events[0]["filing_key"] == filing_key(number)
    filing = _filing(state, filing_key(number))
    assert filing["removed_batch_id"] == events[0]["batch_id"]
    assert filing["cancelled_batch_id"] is None
    assert "not cancellations" in outcome.report


def test_remark_then_notice_is_one_cancellation(replica: Replica, state: Path) -> None:
    # 生成无限多模态大模型算法-1 carries 已注销 in its list (2025年3月) before
    # the notice of 2026-05-06 names it.
    number = "网信算备110108237501701240017号"
    replica.as_of = AFTER

    run(replica, state)

    kinds = [e["kind"] for e in _events(state) if e["filing_key"] == number]
    assert kinds == ["cancellation"]
    filing = _filing(state, number)
    sources = json.loads(filing["cancel_sources"])
    assert [s["source"] for s in sources] == ["remark", "notice"]
    assert filing["cancelled_batch_id"] == sources[0]["batch_id"]
    assert filing["cancelled_on"] == "2026年5月"


def test_notice_then_remark_is_one_modification_and_no_second_cancellation(
    replica: Replica, tmp_path: Path
) -> None:
    # The first load sees the 2022年10月 list as it was before CAC added the
    # 已注销 remark (the cell emptied) and the notice of 2025-07-14 that
    # cancels the filing; the real file then comes back as the re-issue.
    number = "网信算备330108562416102220019号"
    title = "境内互联网信息服务算法备案清单（2022年10月）"
    document = _document(title)
    columns = _columns(document)
    row = next(
        r
        for r in document.tables[0].rows[1:]
        if "".join(r.cells[columns["备案编号"]].text.split()) == number
    )
    assert row.cells[columns["备注"]].text.strip() == "已注销"
    row.cells[columns["备注"]].text = ""
    replica.overrides[title] = _saved(document)
    state = tmp_path / "state"
    assert run(replica, state).kind == "initial_load"
    replica.overrides.clear()

    outcome = run_job(
        replica.base_url, state, beian=replica.beian_url, delay=0, refetch_days=0
    )

    events = _events(state)
    assert [(e["kind"], e["filing_key"]) for e in events] == [("modification", number)]
    assert json.loads(events[0]["payload"])["cancellation_remark"] is True
    assert events[0]["run_id"] == outcome.run_id
    sources = json.loads(_filing(state, number)["cancel_sources"])
    assert [s["source"] for s in sources] == ["notice", "remark"]


@pytest.fixture(scope="module")
def window_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """State loaded as of 2026-03-31, then run again as of 2026-05-31."""
    state = tmp_path_factory.mktemp("window") / "state"
    with Replica(WINDOW_START) as site:
        assert run(site, state).kind == "initial_load"
        site.as_of = AFTER
        assert run(site, state).kind == "update"
    return state


def test_window_events_equal_an_independent_reading(window_state: Path) -> None:
    expected = expected_changes(WINDOW_START, AFTER)
    # The analytics events that follow the diff are checked below and in
    # tests/test_analytics.py.
    events = [e for e in _events(window_state) if e["kind"] in EVENT_KINDS]

    kinds = {e["kind"] for e in events}
    assert kinds == {"new_filing", "new_registrant", "cancellation"}
    filings = {e["filing_key"] for e in events if e["kind"] == "new_filing"}
    registrants = {
        registrant_key(e["entity_key"]) for e in events if e["kind"] == "new_registrant"
    }
    known = {
        e["filing_key"]
        for e in events
        if e["kind"] == "new_filing"
        and json.loads(e["payload"])["registrant"] == "known"
    }
    assert filings == expected.listed_filings
    assert registrants == expected.registrants
    assert known == expected.by_known_registrants
    assert {
        e["filing_key"] for e in events if e["kind"] == "cancellation"
    } == expected.cancellations
    assert len(events) == expected.event_count


def _window_rows() -> dict[str, dict[str, str]]:
    """The filings first listed in the window, read without cacwatch's parsers."""
    rows: dict[str, dict[str, str]] = {}
    lists: list[tuple[dt.date, str, list[dict[str, str]]]] = []
    for series in ("algorithm", "deep_synthesis"):
        for publication in load_timeline().series(series):
            for attachment in publication.attachments:
                fields = [
                    {
                        "algorithm_name": row["算法名称"],
                        "product": row["应用产品"],
                        "purpose": row["主要用途"],
                        "entity_name": row["主体名称"],
                        "filing_no": row["备案编号"],
                    }
                    for row in read_list(attachment.path)
                ]
                lists.append((attachment.released, series, fields))
    for document in genai_documents():
        fields = [
            {key: str(value) for key, value in row.items()}
            for row in document.expected_rows()
        ]
        lists.append((document.released, "generative_ai", fields))

    for released, series, fields in sorted(lists, key=lambda item: item[:2]):
        if WINDOW_START < released <= AFTER:
            for row in fields:
                rows.setdefault(filing_key(row["filing_no"]), {**row, "series": series})
    return rows


def test_window_sector_counts_equal_an_independent_reading(window_state: Path) -> None:
    expected = expected_changes(WINDOW_START, AFTER)
    taxonomy = load_taxonomy()
    rows = _window_rows()
    independent = Counter(
        classify(rows[key], taxonomy).sector for key in expected.listed_filings
    )

    store = Store(window_state)
    try:
        stored = Counter(
            {
                row["sector"]: row["n"]
                for row in store.query(
                    "select c.sector, count(*) n from events e "
                    "join classifications c using (filing_key) "
                    "where e.kind = 'new_filing' group by c.sector"
                )
            }
        )
    finally:
        store.close()
    assert stored == independent
    assert sum(stored.values()) == len(expected.listed_filings)


def test_every_filing_event_names_its_province(window_state: Path) -> None:
    store = Store(window_state)
    try:
        events = store.query("select * from events where filing_key is not null")
        missing = store.query(
            "select filing_key from filings where series != 'generative_ai' "
            "and province_code is null"
        )
    finally:
        store.close()
    # Only numbers whose district code names no province lack one (网信算备
    # 406301… of a company in Hainan, as published).
    assert {row["filing_key"][4:6] for row in missing} <= {"40"}
    assert region_by_code("40") is None
    for event in events:
        payload = json.loads(event["payload"])
        number = payload["filing_no"]
        if number.startswith("网信算备"):
            assert payload["province_code"] == filing_key(number)[4:6]


def test_renames_in_remarks_are_aliases(window_state: Path) -> None:
    store = Store(window_state)
    try:
        aliases = store.query("select * from entity_aliases")
        branches = store.query(
            "select e.name, p.name as parent from entities e "
            "join entities p on p.key = e.parent_key"
        )
    finally:
        store.close()
    by_alias = {a["alias_name"]: a for a in aliases}
    assert "上海识装信息科技有限公司" in by_alias
    assert by_alias["上海识装信息科技有限公司"]["entity_key"].startswith("上海得物")
    assert {a["source"] for a in aliases} <= {"remark", "filing"}
    for branch in branches:
        assert branch["name"].startswith(branch["parent"])
        assert branch["name"].endswith("分公司")


def test_registrant_command_shows_former_names_and_provinces(
    loaded_state: Path,
) -> None:
    runner = CliRunner()

    shown = runner.invoke(cli, ["registrant", "--state", str(loaded_state), "上海识装"])
    as_json = runner.invoke(
        cli, ["registrant", "--state", str(loaded_state), "--json", "上海识装"]
    )
    missing = runner.invoke(
        cli, ["registrant", "--state", str(loaded_state), "没有这家公司"]
    )

    assert shown.exit_code == 0, shown.output
    assert "former name: 上海识装信息科技有限公司 (remark)" in shown.output
    assert "上海市 Shanghai" in shown.output
    records = [json.loads(line) for line in as_json.output.splitlines()]
    assert any(r["key"].startswith("上海得物") for r in records)
    assert missing.exit_code == 1
    assert "no registrant matches" in missing.output
