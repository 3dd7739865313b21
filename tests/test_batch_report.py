"""The batch report: Markdown, HTML, and its charts loaded in a real Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from monitor.cli import cli
from monitor.job import RunOutcome
from monitor.store import Store

UPDATE = tuple[Path, RunOutcome]
CHARTS = {
    f"{series}_{dimension}.png"
    for series in ("algorithm", "deep_synthesis", "generative_ai")
    for dimension in ("sector", "province")
}


def _write(state: Path, out: Path, fmt: str, *extra: str) -> str:
    result = CliRunner().invoke(
        cli,
        [
            "batch-report",
            "--state",
            str(state),
            "--out",
            str(out),
            "--format",
            fmt,
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _chromium(page: Path, profile: Path, *mode: str) -> str:
    """Open *page* in headless Chromium; return what it prints (the DOM)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "Chromium is needed: apt-get install -y chromium (see .ci/run)"
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Lets the load event and the page's script run before the dump.
        "--virtual-time-budget=10000",
        *mode,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_markdown_report_of_the_update(updated_state: UPDATE, tmp_path: Path) -> None:
    state, outcome = updated_state
    out = tmp_path / "md"

    path = Path(_write(state, out, "md"))

    text = path.read_text(encoding="utf-8")
    assert path == out / "report.md"
    assert f"run {outcome.run_id}" in text
    assert "## 境内深度合成服务算法备案清单（2026年5月）" in text
    assert "## 生成式人工智能服务已备案和已登记信息（2026年4月）" in text
    assert "### New filings by sector" in text
    assert "| value | filings | share % | window % |" in text
    assert "### Watchlist hits" in text
    assert "first province Inner Mongolia (内蒙古自治区)" in text
    for chart in CHARTS:
        assert f"]({chart})" in text
        assert (out / chart).stat().st_size > 0


def test_the_shift_rows_add_up_to_the_new_filings(
    updated_state: UPDATE, tmp_path: Path
) -> None:
    state, _ = updated_state
    store = Store(state, readonly=True)
    name = "境内深度合成服务算法备案清单（2026年5月）"
    batch = store.query("select id from batches where name = ?", [name])[0]
    new = store.scalar(
        "select count(*) from filings where first_batch_id = ?", [batch["id"]]
    )

    text = Path(_write(state, tmp_path / "md", "md")).read_text(encoding="utf-8")

    section = text.split("## 境内深度合成服务算法备案清单（2026年5月）")[1].split(
        "\n## "
    )[0]
    table = section.split("### New filings by sector")[1].split("###")[0]
    counts = [
        int(line.split(" | ")[1])
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| value")
    ]
    assert sum(counts) == new


def test_html_report_charts_load_in_chromium(
    updated_state: UPDATE, tmp_path: Path
) -> None:
    state, _ = updated_state
    out = tmp_path / "html"
    page = Path(_write(state, out, "html"))

    dom = _chromium(page, tmp_path / "profile", "--dump-dom")
    shot = tmp_path / "shot.png"
    _chromium(
        page, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1200,1600"
    )

    assert 'data-charts="checked"' in dom
    images = re.findall(r'<img class="chart" src="([^"]+)"[^>]*data-width="(\d+)"', dom)
    assert {src for src, _ in images} == CHARTS
    assert all(int(width) > 0 for _, width in images)
    assert '<p class="missing">' not in dom
    # The top of the page shows the first chart: many colours, not a blank page.
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 50


def test_a_missing_chart_is_shown_as_missing(
    updated_state: UPDATE, tmp_path: Path
) -> None:
    state, _ = updated_state
    out = tmp_path / "html"
    page = Path(_write(state, out, "html"))
    (out / "algorithm_sector.png").unlink()

    dom = _chromium(page, tmp_path / "profile", "--dump-dom")

    missing = '<p class="missing">Chart file missing: algorithm_sector.png</p>'
    assert missing in dom
    assert (
        'src="algorithm_sector.png" alt="algorithm: new filings by sector" '
        'data-width="0"' in dom
    )


def test_after_an_initial_load_the_newest_lists_are_reported(
    loaded_state: Path, tmp_path: Path
) -> None:
    text = Path(_write(loaded_state, tmp_path / "md", "md")).read_text(encoding="utf-8")

    assert "## 境内互联网信息服务算法备案清单（2026年3月）" in text
    assert "### New filings by province" in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--run", "no-such-run"], "no run no-such-run"),
        (["--format", "pdf"], "Invalid value for '--format'"),
    ],
)
def test_bad_requests_are_refused(
    loaded_state: Path, tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "batch-report",
            "--state",
            str(loaded_state),
            "--out",
            str(tmp_path / "r"),
            *arguments,
        ],
    )

    assert result.exit_code != 0
    assert message in result.output
