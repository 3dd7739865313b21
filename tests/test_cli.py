"""The ``cacwatch`` command line, as a user runs it."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from crawler.replica.server import Replica
from monitor.cli import cli
from tests.conftest import AFTER, BATCHES_AFTER_LOAD


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_unreachable_site_fails_with_one_line_and_leaves_state_alone(
    state: Path,
) -> None:
    before = tree_digest(state)
    site = f"http://127.0.0.1:{closed_port()}"

    result = CliRunner().invoke(
        cli,
        ["run", "--site", site, "--beian", site, "--state", str(state), "--delay", "0"],
    )

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: cannot reach")
    assert tree_digest(state) == before


def test_unreachable_site_on_a_fresh_machine_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    site = f"http://127.0.0.1:{closed_port()}"

    result = CliRunner().invoke(
        cli,
        ["run", "--site", site, "--beian", site, "--delay", "0"],
        env={"CACWATCH_STATE": str(state)},
    )

    assert result.exit_code == 1
    assert not state.exists() or not any(state.iterdir())


def test_run_events_status_and_report(replica: Replica, state: Path) -> None:
    replica.as_of = AFTER
    runner = CliRunner()

    result = runner.invoke(
        cli,
        ["run", "--state", str(state), "--delay", "0"],
        env={"CACWATCH_SITE": replica.base_url, "CACWATCH_BEIAN": replica.beian_url},
    )
    assert result.exit_code == 0, result.output
    assert "New registrants (" in result.output

    listed = runner.invoke(
        cli, ["events", "--state", str(state), "--json", "--kind", "new_registrant"]
    )
    records = [json.loads(line) for line in listed.output.splitlines()]
    assert records
    assert {r["kind"] for r in records} == {"new_registrant"}
    assert all(r["payload"]["entity_name"] for r in records)

    deep = runner.invoke(
        cli,
        [
            "events",
            "--state",
            str(state),
            "--json",
            "--series",
            "deep_synthesis",
            "--kind",
            "new_filing",
        ],
    )
    assert len(deep.output.splitlines()) == 608

    limited = runner.invoke(cli, ["events", "--state", str(state), "--limit", "3"])
    assert len(limited.output.splitlines()) == 3

    status = runner.invoke(cli, ["status", "--state", str(state)])
    assert status.exit_code == 0
    # The initial load's lists and the four published in May 2026.
    assert f"{BATCHES_AFTER_LOAD + 4} batches" in status.output
    assert "update" in status.output
    assert "initial_load" in status.output

    report = runner.invoke(cli, ["report", "--state", str(state)])
    assert report.output.strip() == result.output.strip()


def test_commands_on_a_missing_state_say_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--state", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no cacwatch state" in result.output


def test_demo_prints_the_second_report(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "境内深度合成服务算法备案清单（2026年5月）" in result.stdout
    assert "608 new filings" in result.stdout
    assert "New registrants (" in result.stdout
    assert "initial_load" in result.stderr
