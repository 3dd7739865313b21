"""The docs cover every command, status and field the code defines."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.fetch_status import FetchStatus
from monitor.cli import cli
from monitor.fields import FIELDS
from monitor.parsers.result import ParseStatus, RowIssue

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DATA_MODEL = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
FIELDS_DOC = (ROOT / "docs" / "fields.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.list_commands(None)))  # type: ignore[arg-type]
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"cacwatch {command}" in README


@pytest.mark.parametrize("status", [*FetchStatus, *ParseStatus, *RowIssue])
def test_every_status_is_documented(status: str) -> None:
    assert f"`{status}`" in DATA_MODEL


@pytest.mark.parametrize("name", [field.name for field in FIELDS])
def test_every_field_is_documented(name: str) -> None:
    assert f"`{name}`" in FIELDS_DOC


def test_readme_quickstart_has_two_commands() -> None:
    quickstart = README.split("## Quickstart")[1].split("## ")[0]
    commands = [line for line in quickstart.splitlines() if line.startswith("python3 ")]
    assert len(commands) == 2
    assert commands[0].endswith("cacwatch demo")
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    quickstart = README.split("## Quickstart")[1].split("## ")[0]
    test_command = next(
        line for line in quickstart.splitlines() if line.endswith("pytest")
    )
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
