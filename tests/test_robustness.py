"""What a demanding user does wrong, or what goes wrong around a run."""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.replica.server import Replica
from monitor import diff as diff_module
from monitor.cli import cli
from monitor.job import RunInProgress, run_job, state_lock
from monitor.store import DB_NAME, Store
from tests.conftest import (
    AFTER,
    DIFF_EVENTS,
    attachment_file,
    expected_changes,
    run,
)

MAY_ALGORITHMS = "境内互联网信息服务算法备案清单（2026年5月）"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def respell(data: bytes, name: str, variant: str) -> bytes:
    """The docx with the first cell holding exactly *name* respelt as *variant*."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                text = content.decode()
                text = text.replace(f">{name}<", f">{variant}<", 1)
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


def report_filings(report: str) -> list[str]:
    """Filing numbers the report lists as new, in brackets, before cancellations."""
    new_part = report.split("\nCancelled filings")[0].split("\nReconciliation")[0]
    return re.findall(r"\[([^\]]+)\]", new_part)


def test_report_lists_every_new_filing_once(replica: Replica, state: Path) -> None:
    replica.as_of = AFTER
    outcome = run(replica, state)

    listed = report_filings(outcome.report)
    expected = expected_changes()
    assert len(listed) == len(set(listed)) == len(expected.listed_filings)
    assert f"{len(expected.listed_filings)} new filings" in outcome.report


def test_report_groups_spellings_of_one_registrant(
    replica: Replica, state: Path
) -> None:
    name = "杭州钧航世邦科技有限公司"
    original = attachment_file(MAY_ALGORITHMS).read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert xml.count(f">{name}<") >= 2
    replica.overrides[MAY_ALGORITHMS] = respell(
        original, name, "杭州钧航世邦科技 有限公司"
    )
    replica.as_of = AFTER

    outcome = run(replica, state)

    report_lines = outcome.report.splitlines()
    headers = [
        i
        for i, line in enumerate(report_lines)
        if line.startswith(("  +", "  *")) and "钧航世邦" in line
    ]
    # One registrant, listed once, whichever spelling it was first seen under.
    assert len(headers) == 1
    section = []
    for line in report_lines[headers[0] + 1 :]:
        if not line.startswith("      "):
            break
        section.append(line)
    filings = Store(state).query(
        "select count(*) n from events where kind = 'new_filing' and entity_key = ?",
        [name],
    )[0]["n"]
    assert filings >= 2
    assert len(report_filings("\n".join(section))) >= 2
    assert report_filings(outcome.report).count("网信算备330110538454304260011号") == 1


def test_interrupted_diff_is_reported_by_the_next_run(
    replica: Replica, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica.as_of = AFTER
    real_apply = diff_module._apply_batch
    calls = {"n": 0}

    def crash_on_second(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_apply(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(diff_module, "_apply_batch", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        run(replica, state)
    monkeypatch.undo()

    outcome = run(replica, state)

    expected = expected_changes()
    assert len(report_filings(outcome.report)) == len(expected.listed_filings)
    store = Store(state)
    statuses = [
        r["status"] for r in store.query("select status from runs order by started_at")
    ]
    assert statuses[-2:] == ["interrupted", "ok"]
    assert store.scalar(
        f"select count(*) from events where run_id = ? and {DIFF_EVENTS}",
        [outcome.run_id],
    ) == (expected.event_count)


def test_a_second_run_on_the_same_state_is_refused(state: Path) -> None:
    with state_lock(state):
        with pytest.raises(RunInProgress):
            run_job("http://127.0.0.1:9", state, beian="http://127.0.0.1:9", delay=0)
        code, output = invoke("run", "--state", str(state), "--delay", "0")
    assert code == 1
    assert "another cacwatch run is using" in output


@pytest.mark.parametrize("site", ["ftp://127.0.0.1:21", "notaurl", "http://"])
def test_a_site_that_is_no_http_url_is_refused_at_once(
    site: str, tmp_path: Path
) -> None:
    code, output = invoke("run", "--site", site, "--state", str(tmp_path / "s"))
    assert code == 2  # a wrong value on the command line
    assert "must be an http:// or https:// URL" in output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--delay", "nan"),
        ("--delay", "inf"),
        ("--delay", "-1"),
        ("--refetch-days", "nan"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(option: str, value: str) -> None:
    code, output = invoke("run", option, value)
    assert code == 2
    assert "Invalid value" in output


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_event_limit_must_be_positive(state: Path, limit: str) -> None:
    code, output = invoke("events", "--state", str(state), "--limit", limit)
    assert code == 2
    assert "Invalid value" in output


def test_state_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, output = invoke("run", "--state", str(blocker / "sub"), "--delay", "0")
    assert code == 1
    assert output.startswith("Error: cannot use")
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [b"", b"\x00\x01random bytes" * 100])
def test_a_corrupt_database_is_named_and_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / DB_NAME).write_bytes(content)

    for command in (["status"], ["events"], ["report"], ["reconcile"]):
        code, output = invoke(*command, "--state", str(state))
        assert code == 1, command
        assert "cacwatch" in output
        assert "Traceback" not in output
    if content:
        code, output = invoke("run", "--state", str(state), "--delay", "0")
        assert code == 1
        assert "not a usable cacwatch database" in output
    assert (state / DB_NAME).read_bytes() == content


def test_reading_commands_never_write(state: Path) -> None:
    before = hashlib.sha256((state / DB_NAME).read_bytes()).hexdigest()
    for command in ("status", "events", "report", "reconcile"):
        invoke(command, "--state", str(state))
    assert hashlib.sha256((state / DB_NAME).read_bytes()).hexdigest() == before
    assert sorted(p.name for p in state.iterdir()) == ["archive", DB_NAME, "logs"]


def test_entity_filter_compares_registrant_keys(replica: Replica, state: Path) -> None:
    replica.as_of = AFTER
    run(replica, state)

    outputs = [
        invoke("events", "--state", str(state), "--entity", spelling)
        for spelling in ("汇隽可之（深圳）", "汇隽可之(深圳)", "汇隽可之 ( 深圳 )")
    ]
    assert all(code == 0 for code, _ in outputs)
    assert len({output for _, output in outputs}) == 1
    assert outputs[0][1].count("\n") >= 1
    assert invoke("events", "--state", str(state), "--entity", "%") == (
        0,
        "No events match.\n",
    )


def test_damaged_archive_file_is_repaired_by_the_next_download(
    replica: Replica, state: Path
) -> None:
    digest = hashlib.sha256(
        attachment_file(MAY_ALGORITHMS.replace("5月", "3月")).read_bytes()
    )
    path = next((state / "archive").rglob(f"{digest.hexdigest()}*"))
    path.write_bytes(b"damaged")

    run_job(replica.base_url, state, beian=replica.beian_url, delay=0, refetch_days=0)

    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest.hexdigest()
    assert path.stat().st_mode & 0o044 == 0o044


def test_a_crawler_package_in_the_working_directory_is_not_used(
    replica: Replica, tmp_path: Path
) -> None:
    impostor = tmp_path / "crawler"
    impostor.mkdir()
    (impostor / "__init__.py").write_text("")
    (impostor / "__main__.py").write_text("raise SystemExit('impostor')\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor.cli",
            "run",
            "--site",
            replica.base_url,
            "--beian",
            replica.beian_url,
            "--state",
            str(tmp_path / "state"),
            "--delay",
            "0",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "impostor" not in result.stderr
    assert "Initial load" in result.stdout


def test_status_keeps_sqlite_files_unchanged_under_readonly(state: Path) -> None:
    connection = sqlite3.connect(state / DB_NAME)
    tables = {r[0] for r in connection.execute("select name from sqlite_master")}
    connection.close()
    assert "reconciliations" in tables
    code, output = invoke("status", "--state", str(state))
    assert code == 0
    assert "Last runs" in output
