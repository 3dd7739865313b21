"""The batch report in Markdown or HTML, with charts (``cacwatch batch-report``).

For each batch it covers (the batches that brought new filings in a run, by
default the latest run that had any): its events, the shifts of its new
filings by sector, province and role against the trailing batches, first
appearances and watchlist hits; then charts of the sector and province shares
over all batches of each series. The report is built as a list of blocks and
written by one of two small renderers, so Markdown and HTML say the same.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.analytics import news_batches
from monitor.charts import draw_shares
from monitor.diff import display_name
from monitor.events import (
    ANALYTICS_EVENT_KINDS,
    FIRST_APPEARANCE,
    PROVINCE_SHIFT,
    ROLE_SHIFT,
    SECTOR_SHIFT,
    WATCHLIST_HIT,
)
from monitor.provinces import province_english
from monitor.sectors import Taxonomy
from monitor.shifts import (
    ROLE_LABELS,
    Share,
    batch_shifts,
    series_batches,
    shares_over_batches,
)
from monitor.store import Store, now

logger = logging.getLogger(__name__)

SERIES_LABELS = {
    "algorithm": "algorithm filings (境内互联网信息服务算法备案清单)",
    "deep_synthesis": "deep-synthesis filings (境内深度合成服务算法备案清单)",
    "generative_ai": "generative-AI services (生成式人工智能服务已备案/已登记信息)",
    "cancellation": "cancelled filing numbers (算法备案编号注销公告)",
}
PROVINCE_ROWS = 10
FILING_ROWS = 30
FORMATS = ("md", "html")


@dataclass(frozen=True)
class Block:
    kind: str  # "h2", "h3", "h4", "p", "list", "table", "img"
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


class ReportError(Exception):
    """The report cannot be made (no such run, nothing to report)."""


def report_batches(
    store: Store, run_id: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """The run reported on and its batches with new filings."""
    if run_id is not None:
        if not store.scalar("select 1 from runs where id = ?", [run_id]):
            raise ReportError(f"no run {run_id} in this state")
        return run_id, news_batches(store, run_id)

    runs = store.query(
        "select distinct e.run_id, r.started_at from events e "
        "join runs r on r.id = e.run_id where e.kind = 'new_filing' "
        "order by r.started_at desc limit 1"
    )
    if runs:
        return str(runs[0]["run_id"]), news_batches(store, str(runs[0]["run_id"]))
    latest = store.scalar("select id from runs order by started_at desc limit 1")
    if latest is None:
        raise ReportError("the state holds no run yet")
    # An initial load records no events: report the newest list of each series.
    newest = []
    for series in ("algorithm", "deep_synthesis", "generative_ai"):
        batches = series_batches(store, series)
        if batches:
            newest.append(batches[-1])
    return str(latest), newest


def build_blocks(
    store: Store, taxonomy: Taxonomy, run_id: str, batches: list[dict[str, Any]]
) -> list[Block]:
    blocks = [
        Block("p", f"Run {run_id}; report made {now()}."),
        Block("p", f"{len(batches)} lists with new filings are covered."),
    ]
    for batch in batches:
        blocks += _batch_blocks(store, taxonomy, run_id, batch)
    return blocks


def _batch_blocks(
    store: Store, taxonomy: Taxonomy, run_id: str, batch: dict[str, Any]
) -> list[Block]:
    series = SERIES_LABELS.get(batch["series"], batch["series"])
    blocks = [
        Block("h2", f"{batch['name']}"),
        Block("p", f"{series}; period {batch['period'] or '—'}."),
    ]
    counts = store.query(
        "select kind, count(*) n from events where batch_id = ? and run_id = ? "
        "group by kind order by kind",
        [batch["id"], run_id],
    )
    if counts:
        items = tuple(f"{row['kind']}: {row['n']}" for row in counts)
        blocks += [Block("h3", "Events"), Block("list", items=items)]

    for dimension in ("sector", "province", "role"):
        shares = batch_shifts(store, batch["id"], taxonomy, dimension)
        if dimension == "province":
            shares = shares[:PROVINCE_ROWS]
        blocks += [Block("h3", f"New filings by {dimension}"), _share_table(shares)]

    blocks += _analytics_events(store, batch, run_id)
    blocks += _new_filings(store, taxonomy, batch)
    return blocks


def _share_table(shares: list[Share]) -> Block:
    header = (
        "value",
        "filings",
        "share %",
        "window %",
        "change pp",
        "registrants",
        "p (Fisher)",
        "flag",
    )
    rows = tuple(
        (
            share.label,
            str(share.count),
            f"{share.share:.1f}",
            f"{share.window_share:.1f}",
            f"{share.change_pp:+.1f}",
            str(share.registrants),
            f"{share.p_value:.2g}",
            _flag(share),
        )
        for share in shares
    )
    return Block("table", header=header, rows=rows)


def _flag(share: Share) -> str:
    marks = []
    if share.significant:
        marks.append("shift")
    if share.first_appearance:
        marks.append("first")
    return ", ".join(marks)


def _analytics_events(store: Store, batch: dict[str, Any], run_id: str) -> list[Block]:
    marks = ", ".join("?" for _ in ANALYTICS_EVENT_KINDS)
    events = store.query(
        f"select kind, summary from events where batch_id = ? and run_id = ? "
        f"and kind in ({marks}) order by kind, summary",
        [batch["id"], run_id, *ANALYTICS_EVENT_KINDS],
    )
    blocks = []
    for title, kinds in (
        ("Shifts flagged", (SECTOR_SHIFT, PROVINCE_SHIFT, ROLE_SHIFT)),
        ("First appearances", (FIRST_APPEARANCE,)),
        ("Watchlist hits", (WATCHLIST_HIT,)),
    ):
        items = tuple(e["summary"] for e in events if e["kind"] in kinds)
        if items:
            blocks += [Block("h3", title), Block("list", items=items)]
    return blocks


def _new_filings(
    store: Store, taxonomy: Taxonomy, batch: dict[str, Any]
) -> list[Block]:
    filings = store.query(
        "select f.*, c.sector from filings f left join classifications c "
        "on c.filing_key = f.filing_key where f.first_batch_id = ? "
        "order by f.entity_key, f.filing_key",
        [batch["id"]],
    )
    rows = tuple(
        (
            display_name(filing),
            str(filing["entity_name"]),
            taxonomy.label(filing["sector"]),
            ROLE_LABELS.get(filing["role"] or filing["record_type"] or "", "—"),
            str(filing["filing_no"]),
        )
        for filing in filings[:FILING_ROWS]
    )
    title = f"New filings ({len(filings)}; the first {len(rows)} by registrant)"
    header = ("name", "registrant", "sector", "role", "filing number")
    return [Block("h3", title), Block("table", header=header, rows=rows)]


def chart_blocks(store: Store, taxonomy: Taxonomy, out: Path) -> list[Block]:
    """Draw the share charts of every series into *out*; blocks that show them."""
    blocks = [Block("h2", "Shares over the batches")]
    sector_labels = {s.id: s.label for s in taxonomy.sectors}
    for series in ("algorithm", "deep_synthesis", "generative_ai"):
        for dimension in ("sector", "province"):
            batches = shares_over_batches(store, series, dimension)
            if not batches:
                continue
            labels = (
                sector_labels
                if dimension == "sector"
                else {v: province_english(v) for _, c in batches for v in c}
            )
            name = f"{series}_{dimension}.png"
            title = f"{series}: new filings by {dimension}"
            draw_shares(batches, labels, title, out / name)
            blocks.append(Block("img", text=name, items=(title,)))
    return blocks


def write_report(
    store: Store, taxonomy: Taxonomy, out: Path, fmt: str, run_id: str | None = None
) -> Path:
    """Write the report (``report.md`` or ``report.html``) and its charts to *out*."""
    out.mkdir(parents=True, exist_ok=True)
    run, batches = report_batches(store, run_id)
    # Charts first: they give the overall picture the batch details belong to.
    intro, *details = build_blocks(store, taxonomy, run, batches)
    blocks = [intro, *chart_blocks(store, taxonomy, out), *details]

    title = f"cacwatch batch report — run {run}"
    path = out / f"report.{fmt}"
    text = (
        render_html(title, blocks) if fmt == "html" else render_markdown(title, blocks)
    )
    path.write_text(text, encoding="utf-8")
    logger.info("Wrote report %s", path)
    return path


def render_markdown(title: str, blocks: list[Block]) -> str:
    lines = [f"# {title}", ""]
    for block in blocks:
        lines += _markdown_block(block)
        lines.append("")
    return "\n".join(lines)


def _markdown_block(block: Block) -> list[str]:
    if block.kind.startswith("h"):
        return [f"{'#' * int(block.kind[1])} {block.text}"]
    if block.kind == "list":
        return [f"- {_md_cell(item)}" for item in block.items]
    if block.kind == "table":
        lines = ["| " + " | ".join(block.header) + " |"]
        lines.append("|" + "---|" * len(block.header))
        lines += [
            "| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows
        ]
        return lines
    if block.kind == "img":
        return [f"![{block.items[0]}]({block.text})"]
    return [block.text]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# Marks each chart once the page has loaded: a chart file that is missing
# shows a visible note instead of a broken image, and every image carries its
# drawn width in data-width for tools that read the page.
_IMAGE_CHECK = """
window.addEventListener("load", function () {
  document.querySelectorAll("img.chart").forEach(function (img) {
    img.dataset.width = String(img.naturalWidth);
    if (img.naturalWidth === 0) {
      var note = document.createElement("p");
      note.className = "missing";
      note.textContent = "Chart file missing: " + img.getAttribute("src");
      img.after(note);
    }
  });
  document.body.dataset.charts = "checked";
});
"""

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 2px 6px; font-size: 90%; }
td:nth-child(n+2) { text-align: right; }
img.chart { display: block; max-width: 100%; margin: 1em 0; }
.missing { color: #b00; }
"""


def render_html(title: str, blocks: list[Block]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{_IMAGE_CHECK}</script>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts += [_html_block(block) for block in blocks]
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_block(block: Block) -> str:
    escape = html.escape
    if block.kind.startswith("h"):
        return f"<{block.kind}>{escape(block.text)}</{block.kind}>"
    if block.kind == "list":
        items = "".join(f"<li>{escape(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>"
    if block.kind == "table":
        head = "".join(f"<th>{escape(cell)}</th>" for cell in block.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if block.kind == "img":
        alt = json.dumps(block.items[0])[1:-1]
        return f'<img class="chart" src="{escape(block.text)}" alt="{escape(alt)}">'
    return f"<p>{escape(block.text)}</p>"
