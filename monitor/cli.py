"""The ``cacwatch`` command line."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import importlib.util
import json
import logging
import math
import os
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
)

from crawler.topics import SERIES
from monitor import outbox
from monitor.agreement import measure, read_sample
from monitor.analytics import classify_filings
from monitor.batch_report import FORMATS, ReportError, write_report
from monitor.config import ConfigError
from monitor.delivery import DeliveryBusy, check_config, deliver
from monitor.diff import EVENT_KINDS, display_name
from monitor.entities import entity_key
from monitor.events import ANALYTICS_EVENT_KINDS
from monitor.export import (
    ExportError,
    Format,
    Headers,
    Selection,
    Since,
    output_file,
    parse_since,
)
from monitor.export import export as run_export
from monitor.job import (
    DEFAULT_BEIAN,
    DEFAULT_SITE,
    CrawlProgress,
    JobError,
    RunOutcome,
    SiteUnreachable,
    check_url,
    run_job,
    state_lock,
)
from monitor.registrants import MAX_MATCHES, find_registrants, registrant_text
from monitor.reparse import ReparsePlan, UnknownBatch, apply_reparse, plan_reparse
from monitor.reparse_report import describe_applied, describe_plan
from monitor.schema import TABLES
from monitor.sector_table import sector_lines
from monitor.sectors import Taxonomy, TaxonomyError, load_taxonomy
from monitor.store import DB_NAME, OutdatedState, Store
from monitor.summary import build_summary, format_summary
from monitor.watchlists import WatchlistError, load_watchlists

logger = logging.getLogger(__name__)

DEFAULT_STATE = Path("state")

# `run` finished, but something was blocked or could not be read. Not 1 (an
# error before or instead of a run) and not 2 (click's usage errors).
EXIT_PROBLEMS = 3


class _Finite(click.ParamType[float]):
    """A finite float within bounds: NaN and infinity are refused."""

    name = "number"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(
                f"{value} is not between {self.low:g} and {self.high:g}", param, ctx
            )
        return number


FINITE_SECONDS = _Finite(0, 600)
FINITE_DAYS = _Finite(0, 3650)
DEMO_BEFORE = dt.date(2026, 4, 30)
DEMO_AFTER = dt.date(2026, 5, 31)

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Delivery configuration (default: $CACWATCH_CONFIG, else "
    "cacwatch.toml in the data directory).",
)

state_option = click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE,
    envvar="CACWATCH_STATE",
    show_default=True,
    show_envvar=True,
    help="Data directory: database, raw archive, logs.",
)


def _http_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        check_url(value, "the URL")
    except JobError as exc:
        raise click.BadParameter(str(exc)) from exc
    return value


site_option = click.option(
    "--site",
    callback=_http_url,
    default=DEFAULT_SITE,
    envvar="CACWATCH_SITE",
    show_default=True,
    show_envvar=True,
    help="Base URL of the CAC site (or of a replica).",
)
beian_option = click.option(
    "--beian",
    callback=_http_url,
    default=DEFAULT_BEIAN,
    envvar="CACWATCH_BEIAN",
    show_default=True,
    show_envvar=True,
    help="Base URL of the algorithm filing system (cancellation notices).",
)


@click.group()
@click.version_option(package_name="cacwatch")
@click.option(
    "-v", "--verbose", count=True, help="More log output (-v info, -vv debug)."
)
def cli(verbose: int) -> None:
    """Watch CAC's official algorithm and AI filing lists."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@site_option
@beian_option
@state_option
@click.option(
    "--delay",
    type=FINITE_SECONDS,
    default=None,
    help="Seconds between requests (default: the polite crawler setting, 2 s).",
)
@click.option(
    "--refetch-days",
    type=FINITE_DAYS,
    default=7.0,
    show_default=True,
    help="Download archived attachments again after this many days to find re-issues.",
)
@config_option
def run(
    site: str,
    beian: str,
    state_dir: Path,
    delay: float | None,
    refetch_days: float,
    config_file: Path | None,
) -> None:
    """Crawl the site, archive new attachments, diff them and print the report.

    Alerts and feeds of the delivery configuration follow each run.
    """
    _check_config(state_dir, config_file)
    with _crawl_progress() as progress:
        outcome = _run(
            site,
            state_dir,
            beian=beian,
            delay=delay,
            refetch_days=refetch_days,
            config=config_file,
            progress=progress,
        )
    click.echo(outcome.report)
    if outcome.status != "ok":
        click.echo(
            f"Run finished with status {outcome.status}; see the problems above.",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's data here (default: a temporary directory).",
)
def demo(state_dir: Path | None) -> None:
    """Run cacwatch twice against a local replica of the CAC site.

    The replica first shows the site as of 2026-04-30, then as of 2026-05-31,
    when the May algorithm list and deep-synthesis batch 17 appeared. The
    report of the second run is printed.
    """
    from crawler.replica.server import Replica

    console = Console(stderr=True)
    with _demo_state(state_dir) as directory, Replica(DEMO_BEFORE) as replica:
        console.print(
            f"Replica of the CAC site at {replica.base_url}, as of {DEMO_BEFORE}"
        )
        with console.status("First run: initial load of every published list…"):
            first = _run(replica.base_url, directory, beian=replica.beian_url, delay=0)
        console.print(f"First run {first.run_id}: {first.kind}, status {first.status}")

        replica.as_of = DEMO_AFTER
        console.print(f"Replica moved to {DEMO_AFTER}")
        with console.status("Second run: looking for new lists…"):
            second = _run(replica.base_url, directory, beian=replica.beian_url, delay=0)
        console.print(
            f"Second run {second.run_id}: {second.kind}, status {second.status}\n"
        )
        click.echo(second.report)


@contextmanager
def _crawl_progress() -> Iterator[CrawlProgress | None]:
    """A count of fetched attachments on a terminal; nothing in logs and pipes."""
    if not sys.stderr.isatty():
        yield None
        return

    columns = (SpinnerColumn(), TextColumn("Crawling: {task.completed} attachments"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("crawl", total=None)

        def show(fetched: int) -> None:
            bar.update(task, completed=fetched)

        yield show


@contextmanager
def _demo_state(state_dir: Path | None) -> Iterator[Path]:
    if state_dir is not None:
        if (state_dir / DB_NAME).exists():
            raise click.ClickException(
                f"{state_dir} already holds cacwatch state; the demo starts from "
                "an empty directory"
            )
        yield state_dir
        return
    with tempfile.TemporaryDirectory(prefix="cacwatch-demo-") as scratch:
        yield Path(scratch)


@cli.command()
@state_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--kind",
    multiple=True,
    type=click.Choice([*EVENT_KINDS, *ANALYTICS_EVENT_KINDS]),
    help="Only events of this kind (repeatable).",
)
@click.option(
    "--series",
    multiple=True,
    type=click.Choice(list(SERIES)),
    help="Only events of this series (repeatable).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Only events recorded on or after this day (UTC).",
)
@click.option("--run", "run_id", default=None, help="Only events of this run.")
@click.option(
    "--entity", default=None, help="Only events whose registrant name contains this."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many events.",
)
def events(
    state_dir: Path,
    as_json: bool,
    kind: tuple[str, ...],
    series: tuple[str, ...],
    since: dt.datetime | None,
    run_id: str | None,
    entity: str | None,
    limit: int | None,
) -> None:
    """List the stored events, newest first."""
    store = _open_existing(state_dir)
    clauses: list[str] = []
    params: list[str] = []
    for column, values in (("kind", kind), ("series", series)):
        if values:
            clauses.append(f"{column} in ({', '.join('?' for _ in values)})")
            params.extend(values)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since.date().isoformat())
    if run_id:
        clauses.append("run_id = ?")
        params.append(run_id)
    if entity:
        # Compared as registrant keys, so （深圳） finds (深圳) and spaces do not
        # matter; LIKE's wildcards in the text are taken literally.
        pattern = entity_key(entity).replace("\\", "\\\\")
        pattern = pattern.replace("%", "\\%").replace("_", "\\_")
        clauses.append("entity_key like ? escape '\\'")
        params.append(f"%{pattern}%")
    where = f"where {' and '.join(clauses)}" if clauses else ""
    sql = f"select * from events {where} order by created_at desc, batch_id desc, id"
    if limit is not None:
        sql += f" limit {int(limit)}"

    found = store.query(sql, params)
    for event in found:
        if as_json:
            record = {**event, "payload": json.loads(event["payload"])}
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(
                f"{event['created_at'][:19]}  {event['kind']:<15} {event['summary']}"
            )
    if not found:
        # On standard error, so that --json output stays empty for a pipe.
        click.echo("No events match.", err=True)


@cli.command()
@state_option
def status(state_dir: Path) -> None:
    """Show the last runs, what the state holds and the size of the archive."""
    store = _open_existing(state_dir)
    counts = {
        table: store.scalar(f"select count(*) from {table}")
        for table in (
            "announcements",
            "attachments",
            "batches",
            "filings",
            "entities",
            "events",
        )
    }
    archive = state_dir / "archive"
    files = (
        [path for path in archive.rglob("*") if path.is_file()]
        if archive.exists()
        else []
    )
    size = sum(path.stat().st_size for path in files)

    click.echo(f"State: {store.path}")
    click.echo("  " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    click.echo(f"  Archive: {len(files)} files, {size / 1_048_576:.1f} MiB")

    held = store.query(
        "select b.name, b.status from batches b where b.status != 'complete' "
        "and not exists (select 1 from batches later where later.attachment_id = "
        "b.attachment_id and later.id > b.id and later.status = 'complete')"
    )
    for batch in held:
        click.echo(f"  Not compared: {batch['name']} ({batch['status']})")

    click.echo("Last runs:")
    for run_row in store.query("select * from runs order by started_at desc limit 10"):
        events_n = json.loads(run_row["stats"] or "{}").get("events", 0)
        click.echo(
            f"  {run_row['id']}  {run_row['status'] or '':<8} "
            f"{run_row['kind'] or '':<13} {events_n} events  {run_row['site']}"
        )

    _delivery_status(store)


def _delivery_status(store: Store) -> None:
    """The outbox by subscription and channel (channel secrets are masked)."""
    rows = outbox.summary(store)
    if not rows:
        click.echo("Delivery: nothing queued")
        return

    click.echo("Delivery:")
    for row in rows:
        line = f"  {row['subscription']}  {row['channel']}  {row['n']} {row['status']}"
        if row["status"] in (outbox.PENDING, outbox.SENDING, outbox.FAILED):
            line += f", {row['attempts']} attempts"
            if row["status"] == outbox.PENDING and row["next_attempt_at"]:
                line += f", next attempt {row['next_attempt_at']}"
            if row["last_error"]:
                line += f", last error: {row['last_error']}"
        click.echo(line)


@cli.command()
@state_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def reconcile(state_dir: Path, as_json: bool) -> None:
    """Compare CAC's stated generative-AI totals with the counts of the lists."""
    store = _open_existing(state_dir)
    checks = store.query(
        "select r.*, a.published from reconciliations r "
        "join announcements a on a.url = r.announcement_url "
        "order by a.published, r.record_type, r.measure"
    )
    if not checks:
        click.echo("No stated totals found yet (no generative-AI announcement read).")
        return

    for check in checks:
        if as_json:
            click.echo(json.dumps(check, ensure_ascii=False))
            continue
        counted = "—" if check["counted"] is None else check["counted"]
        click.echo(
            f"{check['published'][:10]}  {check['record_type']:<12} "
            f"{check['measure']:<11} stated {check['stated']:>5}  "
            f"counted {counted:>5}  {check['status']:<19} {check['explanation']}"
        )


@cli.command()
@state_option
@click.argument("run_id", required=False)
def report(state_dir: Path, run_id: str | None) -> None:
    """Print the stored report of a run (the latest by default)."""
    store = _open_existing(state_dir)
    sql = "select report from runs where report is not null"
    if run_id:
        rows = store.query(sql + " and id = ?", [run_id])
    else:
        rows = store.query(sql + " order by started_at desc limit 1")
    if not rows:
        raise click.ClickException("no such run")
    click.echo(rows[0]["report"])


@cli.command()
@click.option(
    "--date",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Serve the site as it stood on this day.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--beian-port",
    type=int,
    default=8001,
    show_default=True,
    help="Port of the replica of beian.cac.gov.cn (the cancellation notices).",
)
def replica(as_of: dt.datetime, host: str, port: int, beian_port: int) -> None:
    """Serve the local replica of the CAC site until interrupted.

    Point cacwatch at it with --site http://HOST:PORT --beian http://HOST:BEIAN_PORT.
    """
    from crawler.replica.server import serve

    def ready(url: str) -> None:
        click.echo(f"www.cac.gov.cn replica at {url}, as of {as_of.date()}")
        click.echo(f"beian.cac.gov.cn replica at http://{host}:{beian_port}")

    try:
        serve(as_of.date(), host, port, on_ready=ready, beian_port=beian_port)
    except (OSError, OverflowError) as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc}") from exc


@cli.command("deliver")
@state_option
@config_option
@click.option(
    "--now",
    "force",
    is_flag=True,
    help="Retry failed sends at once instead of waiting for their backoff.",
)
def deliver_command(state_dir: Path, config_file: Path | None, force: bool) -> None:
    """Send the queued alerts (retrying failed ones) and rewrite the feeds."""
    if not (state_dir / DB_NAME).is_file():
        raise click.ClickException(
            f"no cacwatch state in {state_dir}; run `cacwatch run` first"
        )
    try:
        result = deliver(state_dir, config_file, force=force)
    except (ConfigError, DeliveryBusy) as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(
            f"{state_dir / DB_NAME} is not a usable cacwatch database: {exc}"
        ) from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot write to the data directory {state_dir}: {exc.strerror or exc}"
        ) from exc

    if not result.subscriptions:
        click.echo("No subscriptions configured; see docs/alerts.md")
        return
    click.echo(
        f"{result.queued} digests queued, {result.sent} sent, "
        f"{result.retrying} to retry, {result.failed} given up, "
        f"{len(result.feeds)} feeds written"
    )
    if result.retrying or result.failed:
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.option(
    "--cron",
    default=None,
    metavar="EXPR",
    help='Crontab expression, e.g. "0 9,21 * * *" (minute hour day month weekday).',
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=None,
    metavar="SECONDS",
    help="Run every this many seconds instead of a cron expression.",
)
@click.option(
    "--timezone",
    default=None,
    help="Time zone of the cron expression (default: Asia/Shanghai).",
)
@site_option
@beian_option
@state_option
@config_option
@click.option(
    "--delay",
    type=FINITE_SECONDS,
    default=None,
    help="Seconds between requests (default: the polite crawler setting, 2 s).",
)
@click.option(
    "--max-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many runs (for trials; default: run until stopped).",
)
def schedule(
    cron: str | None,
    interval: float | None,
    timezone: str | None,
    site: str,
    beian: str,
    state_dir: Path,
    config_file: Path | None,
    delay: float | None,
    max_runs: int | None,
) -> None:
    """Run cacwatch on a schedule until stopped (one scheduler per data directory)."""
    # Imported here: APScheduler and SQLAlchemy slow down every other command.
    from monitor.schedule import (
        DEFAULT_TIMEZONE,
        SchedulerBusy,
        make_trigger,
        run_scheduler,
    )

    if (cron is None) == (interval is None):
        raise click.UsageError("give exactly one of --cron and --interval")
    try:
        trigger = make_trigger(cron, interval, timezone or DEFAULT_TIMEZONE)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    _check_config(state_dir, config_file)
    logging.getLogger("monitor.schedule").setLevel(logging.INFO)
    job_kwargs = {
        "site": site,
        "state_dir": str(state_dir.resolve()),
        "beian": beian,
        "delay": delay,
        "config": str(config_file.resolve()) if config_file else None,
    }
    try:
        run_scheduler(
            state_dir, trigger, job_kwargs, max_runs=max_runs, on_start=click.echo
        )
    except SchedulerBusy as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot write to the data directory {state_dir}: {exc.strerror or exc}"
        ) from exc
    click.echo("Scheduler stopped")


def _check_config(state_dir: Path, config_file: Path | None) -> None:
    """Refuse a broken delivery configuration before anything runs."""
    try:
        check_config(state_dir, config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@state_option
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=MAX_MATCHES,
    show_default=True,
    help="Show at most this many registrants.",
)
def registrant(state_dir: Path, name: str, as_json: bool, limit: int) -> None:
    """Show the registrants whose name, or former name, contains NAME.

    For each: its spellings, former names (aliases), parent company or branch
    offices, and its filings by series and province.
    """
    if not entity_key(name):
        raise click.BadParameter("give part of a registrant's name", param_hint="NAME")
    store = _open_existing(state_dir)
    found, total = find_registrants(store, name, limit)
    if not found:
        raise click.ClickException(f"no registrant matches {name!r}")

    for record in found:
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        click.echo(registrant_text(record))
    if total > len(found):
        click.echo(
            f"Shown {len(found)} of {total} matching registrants; "
            "use --limit or a longer NAME for more.",
            err=True,
        )


def _run(site: str, state_dir: Path, **options: Any) -> RunOutcome:
    # A broken taxonomy or watchlist file is refused before anything is crawled.
    try:
        load_taxonomy()
        load_watchlists()
    except (TaxonomyError, WatchlistError) as exc:
        raise click.ClickException(
            f"{exc}; nothing was changed in {state_dir}"
        ) from exc

    try:
        return run_job(site, state_dir, **options)
    except SiteUnreachable as exc:
        raise click.ClickException(
            f"{exc}; nothing was changed in {state_dir}"
        ) from exc
    except JobError as exc:
        raise click.ClickException(str(exc)) from exc


def _open_existing(state_dir: Path) -> Store:
    """The state of *state_dir*, read-only: reading commands never change it."""
    path = state_dir / DB_NAME
    if not path.is_file():
        raise click.ClickException(
            f"no cacwatch state in {state_dir}; run `cacwatch run` first"
        )
    try:
        store = Store(state_dir, readonly=True)
        store.scalar("select count(*) from runs")
    except OutdatedState as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(
            f"{path} is not a usable cacwatch database: {exc}"
        ) from exc
    return store


@cli.command()
@state_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in Format]),
    default=Format.CSV.value,
    show_default=True,
    help="File format.",
)
@click.option(
    "--table",
    type=click.Choice(list(TABLES)),
    default="filings",
    show_default=True,
    help="What to export: filings, events, or the parsed rows of every list.",
)
@click.option(
    "--out",
    default="-",
    show_default=True,
    metavar="PATH",
    help="File to write, or - for standard output.",
)
@click.option(
    "--series",
    multiple=True,
    type=click.Choice(list(SERIES)),
    help="Only entries of this series (repeatable).",
)
@click.option(
    "--batch",
    "batch_id",
    type=click.IntRange(min=1),
    default=None,
    help="Only entries first listed in (or, for rows, read from) this batch.",
)
@click.option(
    "--since",
    default=None,
    metavar="YYYY-MM-DD|BATCH",
    help="Only entries first seen on or after this day (UTC), or after this batch.",
)
@click.option(
    "--headers",
    type=click.Choice([h.value for h in Headers]),
    default=Headers.BOTH.value,
    show_default=True,
    help="Header names of CSV and XLSX: English, Chinese, or both.",
)
def export(
    state_dir: Path,
    fmt: str,
    table: str,
    out: str,
    series: tuple[str, ...],
    batch_id: int | None,
    since: str | None,
    headers: str,
) -> None:
    """Export filings, events or rows as CSV, JSON Lines or XLSX (docs/schema.md)."""
    fmt_, headers_ = Format(fmt), Headers(headers)
    if out == "-" and fmt_ is Format.XLSX and sys.stdout.isatty():
        raise click.UsageError("XLSX is a binary file: give --out PATH")
    if out != "-":
        target = Path(out)
        if target.is_dir():
            raise click.BadParameter(f"{out} is a directory", param_hint="--out")
        if not (target.parent if str(target.parent) else Path(".")).is_dir():
            raise click.BadParameter(
                f"no such directory: {target.parent}", param_hint="--out"
            )
    try:
        since_ = parse_since(since) if since is not None else Since()
    except ExportError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc

    store = _open_existing(state_dir)
    try:
        selection = Selection(
            table=table, series=series, batch_id=batch_id, since=since_
        )
        if out == "-":
            stdout = sys.stdout.buffer
            count = run_export(store, selection, fmt_, stdout, headers=headers_)
        else:
            with output_file(Path(out)) as file:
                count = run_export(store, selection, fmt_, file, headers=headers_)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    except BrokenPipeError:
        # The reader stopped early (`| head`): not an error of the export.
        # Standard output goes to /dev/null so that Python's flush at exit
        # does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {out}: {exc.strerror or exc}"
        ) from exc
    finally:
        store.close()
    if out != "-":
        click.echo(f"Wrote {count} {table} to {out}", err=True)


@cli.command()
@state_option
@click.option(
    "--apply",
    "apply_changes",
    is_flag=True,
    help="Store the new rows and re-derive the filings (no events).",
)
@click.option(
    "--batch",
    "batch_ids",
    type=click.IntRange(min=1),
    multiple=True,
    help="Only this batch (repeatable; default: every archived batch).",
)
def reparse(state_dir: Path, apply_changes: bool, batch_ids: tuple[int, ...]) -> None:
    """Parse the archived attachments again and show what the parsers read now."""
    if not apply_changes:
        store = _open_existing(state_dir)
        try:
            plan = _plan_reparse(store, state_dir, batch_ids)
        finally:
            store.close()
        click.echo("\n".join(describe_plan(plan)))
        if plan.batches:
            click.echo("Nothing was changed; run with --apply to store the new rows.")
        return

    _open_existing(state_dir).close()
    try:
        with state_lock(state_dir):
            store = Store(state_dir)
            try:
                plan = _plan_reparse(store, state_dir, batch_ids)
                click.echo("\n".join(describe_plan(plan)))
                counts = apply_reparse(store, plan)
            finally:
                store.close()
    except JobError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(describe_applied(plan, counts))


def _plan_reparse(
    store: Store, state_dir: Path, batch_ids: tuple[int, ...]
) -> ReparsePlan:
    columns = (
        TextColumn("Re-parsing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reparse", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            return plan_reparse(store, state_dir, batch_ids, progress=advance)
        except UnknownBatch as exc:
            raise click.ClickException(str(exc)) from exc


@cli.command(context_settings={"ignore_unknown_options": True})
@state_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def datasette(
    state_dir: Path, host: str, port: int, datasette_args: tuple[str, ...]
) -> None:
    """Browse the state in Datasette, with cacwatch's titles, facets and queries.

    Arguments after the options go to `datasette serve` unchanged.
    """
    _open_existing(state_dir).close()
    if importlib.util.find_spec("datasette") is None:
        raise click.ClickException(
            "Datasette is not installed: pip install 'cacwatch[datasette]'"
        )

    metadata = importlib.resources.files("monitor") / "datasette" / "metadata.json"
    command = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(state_dir / DB_NAME),
        "--metadata",
        str(metadata),
        "--host",
        host,
        "--port",
        str(port),
        *datasette_args,
    ]
    # Become Datasette rather than wait for it: signals and exit codes are its own.
    sys.stdout.flush()
    os.execv(sys.executable, command)


@cli.command()
@state_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--unclassified", is_flag=True, help="List the filings no rule classified."
)
@click.option(
    "--reclassify",
    is_flag=True,
    help="Classify every filing again with the current taxonomy first.",
)
def sectors(
    state_dir: Path, as_json: bool, unclassified: bool, reclassify: bool
) -> None:
    """Filings and registrants per sector, and the filings left unclassified."""
    taxonomy = _taxonomy()
    if reclassify:
        _reclassify(state_dir, taxonomy)
    store = _open_existing(state_dir)
    _require_analytics(store)

    if unclassified:
        for filing in store.query(
            "select f.* from filings f join classifications c using (filing_key) "
            "where c.sector is null order by f.series, f.filing_key"
        ):
            if as_json:
                click.echo(json.dumps(filing, ensure_ascii=False))
            else:
                click.echo(
                    f"{filing['series']:<15} {filing['filing_no']}  "
                    f"{display_name(filing)} — {filing['entity_name']}"
                )
        return

    for line in sector_lines(store, taxonomy, as_json=as_json):
        click.echo(line)


@cli.command()
@click.option("--mistakes", is_flag=True, help="Also list every disagreement.")
def agreement(mistakes: bool) -> None:
    """Agreement of the sector classifier with the hand-labelled sample."""
    result = measure(_taxonomy(), read_sample())
    click.echo(
        f"Sample: {result.rows} filings; agreement {result.correct} "
        f"({100 * result.accuracy:.1f}%), Cohen's kappa {result.kappa:.3f}, "
        f"{result.unclassified} left unclassified"
    )
    columns = ("labelled", "predicted", "precision", "recall")
    click.echo(f"{'sector':<22} " + " ".join(f"{name:>9}" for name in columns))
    for score in result.sectors:
        click.echo(
            f"{score.sector:<22} {score.labelled:>9} {score.predicted:>9} "
            f"{_ratio(score.precision):>9} {_ratio(score.recall):>9}"
        )
    if mistakes:
        for name, label, predicted in result.mistakes:
            click.echo(f"  {name}: labelled {label}, classified {predicted}")


@cli.command()
@state_option
@click.option("--json", "as_json", is_flag=True, help="The figures as one JSON object.")
def summary(state_dir: Path, as_json: bool) -> None:
    """The analyst's summary: totals, months, companies, shares, sectors, provinces."""
    store = _open_existing(state_dir)
    _require_analytics(store)
    figures = build_summary(store, _taxonomy())
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        click.echo(format_summary(figures))


@cli.command()
@state_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--watchlist", "watchlist_id", default=None, help="Only this watchlist.")
def watchlists(state_dir: Path, as_json: bool, watchlist_id: str | None) -> None:
    """The filings whose registrant is on a watchlist."""
    store = _open_existing(state_dir)
    _require_analytics(store)
    sql = (
        "select h.watchlist, h.evidence, f.filing_no, f.series, f.entity_name, "
        "f.algorithm_name, f.service_name from watchlist_hits h "
        "join filings f on f.filing_key = h.filing_key"
    )
    params: list[str] = []
    if watchlist_id:
        sql += " where h.watchlist = ?"
        params.append(watchlist_id)
    for hit in store.query(
        sql + " order by h.watchlist, f.entity_key, f.filing_key", params
    ):
        if as_json:
            record = {**hit, "evidence": json.loads(hit["evidence"])}
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(
                f"{hit['watchlist']:<17} {hit['entity_name']}: {display_name(hit)} "
                f"[{hit['filing_no']}]"
            )


@cli.command("batch-report")
@state_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="html",
    show_default=True,
    help="Markdown or HTML (with the charts as PNG files beside it).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the report and its charts.",
)
@click.option("--run", "run_id", default=None, help="Report on this run's lists.")
def batch_report(state_dir: Path, fmt: str, out: Path, run_id: str | None) -> None:
    """Write the batch report: events, shifts and share charts of new lists."""
    store = _open_existing(state_dir)
    _require_analytics(store)
    try:
        path = write_report(store, _taxonomy(), out, fmt, run_id)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write the report to {out}: {exc}") from exc
    click.echo(str(path))


def _taxonomy() -> Taxonomy:
    try:
        return load_taxonomy()
    except TaxonomyError as exc:
        raise click.ClickException(str(exc)) from exc


def _reclassify(state_dir: Path, taxonomy: Taxonomy) -> None:
    _open_existing(state_dir).close()
    try:
        with state_lock(state_dir):
            store = Store(state_dir)
            try:
                with store.transaction():
                    classify_filings(store, taxonomy, force=True)
            finally:
                store.close()
    except JobError as exc:
        raise click.ClickException(str(exc)) from exc


def _require_analytics(store: Store) -> None:
    if not store.scalar("select count(*) from classifications"):
        raise click.ClickException(
            "no filings classified yet; run `cacwatch run` (or `cacwatch sectors "
            "--reclassify`) first"
        )


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main() -> None:
    # `timeout`, systemd and schedulers stop a run with SIGTERM: unwind as for
    # Ctrl-C, so the crawl process is stopped too and locks are released.
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="cacwatch", auto_envvar_prefix=None)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
