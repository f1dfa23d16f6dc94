"""The scheduler's commands: ``listener run``, ``listener status`` and ``listener report``.

Registered in :data:`listener.cli.LAZY_COMMANDS`:

    "run": "scheduler.commands:run",
    "status": "scheduler.commands:status",
    "report": "scheduler.commands:report",
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import click

from listener.clitools import config_option, resolve_config
from listener.config import parse_duration
from listener.errors import ListenerError


def _since(value: str, now: datetime) -> datetime:
    """``7d``, ``12h`` (ago) or an ISO date/time."""
    try:
        return now - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a duration like 7d or a date like 2026-03-01, found {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command()
@config_option
@click.option("--once", is_flag=True, help="Run every crawl and check once, then exit (for cron).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log line, with counters and fields.")
def run(config_path: str | None, once: bool, log_format: str) -> None:
    """Listen continuously: scheduled crawls, answer re-checks, SLA and spike alerts, digests.

    Stops gracefully on SIGTERM or Ctrl-C; a restart resumes where it stopped.
    With --once, exits 1 if any source's crawl failed, saying which and why on stderr.
    """
    from scheduler.logs import configure
    from scheduler.service import ListenerService

    configure(log_format)
    config = resolve_config(config_path)
    if not config.sources and not once:
        raise ListenerError("no sources are configured, so there is nothing to listen to",
                            hint="Add a `sources:` section (see `listener init`).")
    service = ListenerService(config)
    if once:
        failed = service.run_once()
        if failed:
            from scheduler.status import error_in_words

            for outcome in failed:
                click.echo(f"crawl {outcome.job.name} failed: {error_in_words(outcome.errors[-1])}", err=True)
            raise SystemExit(1)
    else:
        service.run_forever()


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    return f"{_span(now - value)} ago"


def _span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 120:
        text = f"{seconds}s"
    elif seconds < 7200:
        text = f"{seconds // 60}m"
    elif seconds < 172800:
        text = f"{seconds // 3600}h"
    else:
        text = f"{seconds // 86400}d"
    return text if delta.total_seconds() >= 0 else f"-{text}"


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
def status(config_path: str | None, as_json: bool) -> None:
    """Per source: last run, lag, posts fetched, errors and next run; which model reads posts; which run leads."""
    from listener.learning import model_in_use
    from listener.state import open_state
    from scheduler.status import job_statuses

    config = resolve_config(config_path)
    now = datetime.now(timezone.utc)
    with open_state(config) as state:
        rows = job_statuses(config, state, now)
        pending = state.pending_rechecks()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.to_dict()))
        return
    click.echo(f"Reading with: {model_in_use(config)}")
    click.echo(f"Leader: {_leader(config)}")
    if not rows:
        click.echo("No sources configured.")
        return
    click.echo(f"{'source':24} {'last run':>10} {'lag':>6} {'posts':>6} {'errors':>6}  next run")
    for row in rows:
        last = "running" if row.running else _ago(row.last_finished, now)
        lag = _span(row.lag) if row.lag is not None else "-"
        nxt = f"in {_span(row.next_run - now)}" if row.next_run and row.next_run > now else (
            "due now" if row.next_run else "not scheduled")
        posts = "-" if row.posts is None else str(row.posts)
        click.echo(f"{row.name[:24]:24} {last:>10} {lag:>6} {posts:>6} {len(row.errors):>6}  {nxt}")
        if row.last_error:
            click.echo(f"    last error {_ago(row.last_error_at, now)}: {row.last_error_words}")
    click.echo(f"Answer re-checks pending: {pending}")


def _leader(config) -> str:
    """Which ``listener run`` schedules: host, pid and since when (the lease, or the lock file)."""
    from scheduler.lease import run_lease

    try:
        leader = run_lease(config).leader()
    except Exception as exc:  # noqa: BLE001 - status still shows the sources
        return f"unknown ({type(exc).__name__}: {exc})"
    if leader is None:
        return "none (no `listener run` is running)"
    renewed = f", renewed {leader['renewed']}" if leader.get("renewed") else ""
    return f"{leader['host']} (pid {leader['pid']}) since {leader['since']}{renewed}"


@click.group()
def report() -> None:
    """Reports on response times."""


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


@report.command()
@config_option
@click.option("--since", "since_text", default="7d", show_default=True, help="A duration back from now (7d) or a date.")
@click.option("--until", "until_text", default=None, help="A date; default now.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post.")
def offhours(config_path: str | None, since_text: str, until_text: str | None, as_json: bool) -> None:
    """Surfaced posts that arrived outside service hours, and how they were handled."""
    from listener.index import open_backend
    from listener.present import answer_label
    from scheduler.sla_alerts import off_hours

    config = resolve_config(config_path)
    now = datetime.now(timezone.utc)
    since = _since(since_text, now)
    until = _since(until_text, now) if until_text else now
    zone = ZoneInfo(config.schedule.timezone)
    with open_backend(config) as backend:
        rows = off_hours(backend, config, since, until, now)
    if as_json:
        for row in rows:
            click.echo(json.dumps({"id": row.doc.id, "created_at": row.doc.post.created_at.isoformat(),
                                   "due_at": row.status.due_at.isoformat(), "overdue": row.status.overdue,
                                   "answer_state": row.doc.answer_state, "reply_state": row.doc.reply_state,
                                   "answered_by": row.doc.answered_by, "reply_state_reason": row.doc.reply_state_reason,
                                   "status": row.doc.workflow.status,
                                   "url": row.doc.post.url}, ensure_ascii=False))
        return
    late = sum(row.status.overdue for row in rows)
    click.echo(f"{len(rows)} surfaced post(s) arrived outside service hours between "
               f"{_local(since, zone)} and {_local(until, zone)} ({config.schedule.timezone}); {late} answered late or still late.")
    for row in rows:
        flag = "LATE" if row.status.overdue else "ok"
        click.echo(f"  {_local(row.doc.post.created_at, zone)}  due {_local(row.status.due_at, zone)}  {flag:4}  "
                   f"{answer_label(row.doc):22}  {row.doc.post.source}  {row.doc.post.url}")


@report.command()
@config_option
@click.option("--lookback", default="7d", show_default=True, help="How far back to look for open posts.")
def sla(config_path: str | None, lookback: str) -> None:
    """Posts waiting for the brand past their response time, most late first."""
    from listener.index import open_backend
    from scheduler.sla_alerts import lateness, overdue

    config = resolve_config(config_path)
    now = datetime.now(timezone.utc)
    zone = ZoneInfo(config.schedule.timezone)
    with open_backend(config) as backend:
        rows = overdue(backend, config, now, timedelta(seconds=parse_duration(lookback)))
    click.echo(f"{len(rows)} post(s) past the {config.schedule.sla_minutes}-minute response time.")
    for row in rows:
        click.echo(f"  {lateness(row.status):14}  due {_local(row.status.due_at, zone)}  {row.doc.post.source}  {row.doc.post.url}")
