"""The ``listener`` command. Library first: each command is a thin layer that
turns arguments into library calls and library errors into one sentence."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from importlib import import_module, resources
from pathlib import Path

import click

from listener import redaction
from listener.clitools import ListenerGroup, config_option, resolve_config
from listener.config import load_config
from listener.errors import ListenerError, NotFoundError
from listener.jsonl import Rejection, read_posts
from listener.records import Post

# Commands of the layers above the core, imported only when used.
LAZY_COMMANDS: dict[str, str] = {
    "run": "scheduler.commands:run",
    "status": "scheduler.commands:status",
    "report": "scheduler.commands:report",
    "serve": "listener.web.cli:serve",
    "user": "listener.web.cli:user",
    "reply": "listener.sending.cli:reply",
}


class LazyListenerGroup(ListenerGroup):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            module, _, attribute = LAZY_COMMANDS[name].partition(":")
            self.add_command(getattr(import_module(module), attribute), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyListenerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="listener")
def main(verbose: int) -> None:
    """Find the people a brand should talk to."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    redaction.install()  # no secret in any log line
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("path", default="listener.yaml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write an example configuration to PATH (default: listener.yaml)."""
    target = Path(path)
    if target.exists() and not force:
        raise ListenerError(f"{target} already exists", hint="Pass --force to overwrite it.")
    text = resources.files("listener").joinpath("data/example.yaml").read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    load_config(target)
    click.echo(f"Wrote {target}. Edit the brand and competitors, then: listener ingest --config {target} POSTS.jsonl")


def _posts(path: str) -> Iterator[tuple[int, object]]:
    return _read_input(path, read_posts)


def _read_input(path: str, reader) -> Iterator[tuple[int, object]]:
    """``reader``'s lines of the file at ``path``, or of standard input for ``-``."""
    if path == "-":
        yield from reader(sys.stdin.buffer, "<stdin>")
        return
    try:
        with open(path, "rb") as stream:
            yield from reader(stream, path)
    except FileNotFoundError:
        raise ListenerError(f"{path}: no such file")
    except OSError as exc:
        raise ListenerError(f"{path}: cannot be read ({exc.strerror or exc})")


@main.command()
@config_option
@click.argument("path", metavar="FILE|-")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Processes that analyse posts (default: one per core, at most 4).")
def analyze(config_path: str | None, path: str, workers: int | None) -> None:
    """Analyse posts (JSON Lines) and print one enriched line per post, in order."""
    from listener.pipeline import Pipeline, default_workers

    pipeline = Pipeline(resolve_config(config_path))
    workers = workers or default_workers()
    rejected = 0
    for chunk in _read_input(path, lambda stream, origin: pipeline.analyze_lines(stream, origin, workers)):
        for message in chunk.messages:
            click.echo(message, err=True)
        if chunk.lines:
            click.echo("\n".join(chunk.lines))
        rejected += chunk.rejected
    if rejected:
        raise ListenerError(f"{rejected} line(s) could not be read (see above)")


@main.command()
@config_option
@click.argument("path", metavar="FILE|-", required=False)
@click.option("--batch-size", default=500, show_default=True, help="Posts per analysis and write batch.")
@click.option("--replay-dead-letter", "replay", is_flag=False, flag_value="", default=None, metavar="[FILE]",
              help="Ingest the dead-letter file again (default: the data dir's); what succeeds leaves it.")
def ingest(config_path: str | None, path: str | None, batch_size: int, replay: str | None) -> None:
    """Analyse posts (JSON Lines) and add them to the index.

    Every line or post that is not indexed goes to the dead-letter file
    (data dir's dead-letter.jsonl) with its origin and reason, to fix and replay.
    Exits with status 1 if anything was rejected.
    """
    from listener.deadletter import FILENAME, DeadLetterFile
    from listener.index import open_backend
    from listener.pipeline import Pipeline

    config = resolve_config(config_path)
    dead_letter = DeadLetterFile(config.data_path(FILENAME))
    if replay is not None:
        if path is not None:
            raise ListenerError("give either FILE or --replay-dead-letter, not both")
        target = DeadLetterFile(replay) if replay else dead_letter
        if not target.path.exists():
            raise ListenerError(f"{target.path}: no such file", hint="Nothing has been rejected yet, or give the file's path.")
        with open_backend(config) as backend:
            report = Pipeline(config, backend).replay(target, batch_size)
        _report_ingest(report)
        click.echo(f"{report.dead_letters} record(s) still in {target.path}" if report.dead_letters else f"{target.path} is empty")
        if not report.ok:
            sys.exit(1)
        return
    if path is None:
        raise click.UsageError("Missing argument 'FILE|-' (or --replay-dead-letter).")
    size = None if path == "-" else _count_lines(path)
    with open_backend(config) as backend:
        pipeline = Pipeline(config, backend)
        # Standard input has no length to show progress against.
        bar = nullcontext() if size is None else click.progressbar(length=size, label="Ingesting", file=sys.stderr)
        with bar as progress:
            report = pipeline.ingest(_located(path), batch_size, progress=progress and progress.update, dead_letter=dead_letter)
    _report_ingest(report)
    if report.dead_letters:
        click.echo(f"{report.dead_letters} record(s) written to {dead_letter.path}; "
                   "fix them there and run `listener ingest --replay-dead-letter`", err=True)
    if not report.ok:
        sys.exit(1)


def _located(path: str) -> Iterator[object]:
    """The input's items, each post with the ``file:line`` it was read from."""
    for number, item in _posts(path):
        yield (f"{'<stdin>' if path == '-' else path}:{number}", item) if isinstance(item, Post) else item


def _report_ingest(report) -> None:
    click.echo(report.summary())
    for kind, lines in (("warning", report.notices), ("rejected", report.rejected)):
        for line in lines[:50]:
            click.echo(f"  {kind}: {line}", err=True)
        if len(lines) > 50:
            click.echo(f"  … and {len(lines) - 50} more", err=True)


@main.command()
@config_option
@click.argument("path", metavar="FILE|-")
def feedback(config_path: str | None, path: str) -> None:
    """Store the team's feedback on posts' analyses (JSON Lines: id, labels, by, optional at).

    Labels are named as in LABELS.md; the latest feedback on a label decides it.
    Exits with status 1 if any line was not stored.
    """
    from listener.feedback import read_feedback
    from listener.index import open_backend

    config = resolve_config(config_path)
    entities = [entity.name for entity, _ in config.entities]
    stored, repeated, rejected, unknown = 0, 0, [], []
    with open_backend(config) as backend:
        for number, item in _read_input(path, lambda stream, origin: read_feedback(stream, origin, entities)):
            if isinstance(item, Rejection):
                rejected.append(str(item))
                continue
            try:
                if backend.add_feedback(item.post_id, item.feedback):
                    stored += 1
                else:
                    repeated += 1
            except NotFoundError:
                unknown.append(f"{item.post_id} (line {number})")
        backend.refresh()
    click.echo(f"stored {stored}, already stored {repeated}, rejected {len(rejected)}, unknown posts {len(unknown)}")
    for kind, problems in (("rejected", rejected), ("unknown post", unknown)):
        for problem in problems[:50]:
            click.echo(f"  {kind}: {problem}", err=True)
        if len(problems) > 50:
            click.echo(f"  … and {len(problems) - 50} more", err=True)
    if rejected or unknown:
        sys.exit(1)


def _count_lines(path: str) -> int | None:
    try:
        with open(path, "rb") as stream:
            return sum(1 for line in stream if line.strip())
    except FileNotFoundError:
        raise ListenerError(f"{path}: no such file")


def _filters(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ListenerError(f"filter {pair!r} is not FIELD=VALUE", hint="For example: --filter entity=Cinesa")
        filters.setdefault(name, []).append(value)
    return filters


filter_option = click.option("--filter", "-f", "filters", multiple=True, metavar="FIELD=VALUE", help="Only posts with this value (repeatable).")


@main.command()
@config_option
@filter_option
@click.option("--limit", "-n", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post.")
def inbox(config_path: str | None, filters: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Posts to answer: surfaced, still open, most valuable first."""
    from listener.index import inbox_query, open_backend
    from listener.present import inbox_table

    config = resolve_config(config_path)
    with open_backend(config) as backend:
        hits = backend.inbox(_filters(filters), limit=limit)
        total = backend.count(inbox_query(_filters(filters)))
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        return
    click.echo(inbox_table(hits, config, total=total))


@main.command()
@config_option
@click.option("--delete-old", is_flag=True, help="Delete the old indices once the aliases point at the new ones.")
def reindex(config_path: str | None, delete_old: bool) -> None:
    """Rebuild the Elasticsearch index with the current mapping and settings, while it stays in use.

    Every backing index is copied into a new one, what changed meanwhile is
    copied again, and the read and write aliases move to the new indices in one
    atomic step. The old indices are kept, read-only, unless --delete-old.
    """
    from listener.index import open_backend

    config = resolve_config(config_path)
    with open_backend(config) as backend:
        report = backend.reindex(delete_old=delete_old, progress=lambda step: click.echo(f"  {step}", err=True))
    click.echo(report.summary())


@main.command()
@config_option
def rollover(config_path: str | None) -> None:
    """Start a new Elasticsearch write index if the current one reached index.rollover's age or size."""
    from listener.index import open_backend

    config = resolve_config(config_path)
    with open_backend(config) as backend:
        new = backend.rollover()
    click.echo(f"New posts now go to {new}." if new else "No rollover due: the write index is within index.rollover.")


@main.command()
@config_option
@click.argument("query", default="")
@filter_option
@click.option("--facet", "facets", multiple=True, metavar="FIELD", help="Count posts per value of FIELD (repeatable).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest", "score"]))
@click.option("--limit", "-n", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The whole result as JSON.")
def search(config_path, query, filters, facets, sort, limit, as_json) -> None:
    """Full-text search with filters and facet counts."""
    from listener.index import SearchQuery, open_backend
    from listener.present import search_text

    config = resolve_config(config_path)
    request = SearchQuery(text=query, filters=_filters(filters), facets=tuple(facets), sort=sort, limit=limit)
    with open_backend(config) as backend:
        result = backend.search(request)
    if as_json:
        data = {"total": result.total, "total_exact": result.total_exact, "hits": [h.to_dict() for h in result.hits], "facets": result.facets}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(search_text(result))


@main.command()
@config_option
@click.option("--author", "authors", multiple=True, metavar="HANDLE",
              help="@handle, handle or @user@instance (Mastodon), in any case (repeatable).")
@click.option("--older-than", metavar="AGE", help="Erase every post published longer ago than AGE (30d, 12h).")
def erase(config_path: str | None, authors: tuple[str, ...], older_than: str | None) -> None:
    """Forget an author everywhere (a request to be forgotten), or every post past an age.

    An author's posts leave the index, its files, the state and the dead-letter
    file; their handle is replaced with @[erased] in other people's posts; and
    they go on the suppression list, so later ingests, crawls and `listener run`
    skip their posts.
    """
    from datetime import datetime, timedelta, timezone

    from listener.config import parse_age
    from listener.erasure import erase_author, erase_older_than
    from listener.index import open_backend
    from listener.state import open_state

    if not authors and not older_than:
        raise click.UsageError("give --author HANDLE or --older-than AGE")
    if any(not author.strip().lstrip("@") for author in authors):
        raise click.BadParameter("a handle cannot be empty", param_hint="--author")
    try:
        age = parse_age(older_than) if older_than else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    config = resolve_config(config_path)
    with open_backend(config) as backend, open_state(config) as state:
        for author in authors:
            click.echo(erase_author(config, backend, state, author).summary())
        if age is not None:
            cutoff = datetime.now(timezone.utc) - timedelta(seconds=age)
            click.echo(erase_older_than(config, backend, state, cutoff).summary())


@main.command()
@click.option("--data-dir", default="data/demo", show_default=True, type=click.Path(file_okay=False), help="Where the demo index goes (emptied first).")
@click.option("--limit", "-n", default=12, show_default=True, help="Inbox rows to show.")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Then serve the web app on the demo index.")
@click.option("--port", "-p", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Web port (0: any free one).")
def demo(data_dir: str, limit: int, serve: bool, port: int) -> None:
    """Run listener end to end on a bundled demo corpus, show the inbox, serve the web app."""
    from listener.demo import run_demo

    config = run_demo(Path(data_dir), limit=limit, echo=click.echo)
    if serve:
        _serve_demo(config, port)


def _serve_demo(config, port: int) -> None:
    from listener.index import open_backend
    from listener.web.app import users_path
    from listener.web.server import create_demo_users, serve
    from listener.web.settings import web_settings

    created = create_demo_users(users_path(config, web_settings(config)))
    click.echo("\nDemo users (passwords are new on every run):")
    for name, role, password in created:
        click.echo(f"  {name:<6} {role:<8} {password}")
    with open_backend(config) as backend:
        try:
            serve(config, backend, host="127.0.0.1", port=port, echo=click.echo)
        except ListenerError:
            if port == 0:
                raise
            click.echo(f"Port {port} is taken; using a free one.")
            serve(config, backend, host="127.0.0.1", port=0, echo=click.echo)
        except KeyboardInterrupt:
            pass


@main.command()
def sources() -> None:
    """List the kinds of source a configuration can name."""
    from spiders import SOURCE_KINDS

    for kind, spider in sorted(SOURCE_KINDS.items()):
        doc = sys.modules[spider.__module__].__doc__ or ""
        click.echo(f"{kind:<14} {doc.strip().splitlines()[0] if doc.strip() else ''}")


@main.command()
@config_option
@click.option("--source", "source_name", required=True, help="The source's name (or kind) in the configuration.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True, help="JSON Lines file for the posts.")
@click.option("--once/--repeat", default=True, show_default=True, help="Crawl once, or again at the source's interval until stopped.")
def crawl(config_path: str | None, source_name: str, output: str, once: bool) -> None:
    """Crawl one source and write its new posts as JSON Lines (no analysis, no index).

    Cursors advance only after the posts are written, so the next run fetches
    only what is new. They are this output's own (standard output counts as
    one), apart from those of `listener run`, so neither skips what the other
    fetched. Items that are not posts go to the dead-letter file.
    """
    import time

    from listener.deadletter import FILENAME, DeadLetterFile
    from listener.state import open_state
    from listener.suppression import SuppressionList
    from spiders import crawl as crawl_source

    config = resolve_config(config_path)
    source = config.source(source_name)
    target = output if output == "-" else str(Path(output).resolve())
    dead_letter = DeadLetterFile(config.data_path(FILENAME))
    suppression = SuppressionList.from_config(config)
    with open_state(config) as state:
        while True:
            result = crawl_source(config, source, state.load_cursors(source.label, output=target))
            dead_letter.add(result.rejected)
            posts, skipped = suppression.filter(result.posts)
            _write_posts(posts, output)
            state.save_cursors(source.label, result.cursors, output=target)
            erased = f", {skipped} by erased authors skipped" if skipped else ""
            click.echo(f"{source.label}: {len(posts)} new post(s){erased}, {len(result.errors)} error(s)", err=True)
            for error in result.errors[:20]:
                click.echo(f"  {error}", err=True)
            if once:
                break
            time.sleep(source.interval)
    if result.errors:
        sys.exit(1)


def _write_posts(posts, output: str) -> None:
    lines = "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in posts)
    if output == "-":
        click.echo(lines, nl=False)
        return
    with open(output, "a", encoding="utf-8") as stream:
        stream.write(lines)
        stream.flush()
        os.fsync(stream.fileno())


@main.command(name="eval")
@config_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", type=click.Choice(["combined", "learned", "rules", "baseline", "all"]), default="combined",
              show_default=True, help="How posts are read; `all` compares every mode side by side.")
def evaluate(config_path: str | None, path: str, mode: str) -> None:
    """Score the analysis against a labelled JSON Lines file (P/R/F1 per label)."""
    from nlp import Analyzer
    from nlp.baseline import NaiveAnalyzer
    from nlp.evaluate import compare, evaluate as run_evaluation

    from listener.learning import models_folder

    config = resolve_config(config_path)
    folder = models_folder(config)
    modes = ("baseline", "rules", "learned", "combined") if mode == "all" else (mode,)
    reports = {}
    for name in modes:
        analyzer = (NaiveAnalyzer(config) if name == "baseline"
                    else Analyzer(config, reading=name, models=str(folder) if folder else None))
        reports[name] = run_evaluation(analyzer, path)
    click.echo(compare(reports) if len(reports) > 1 else reports[mode].format())


@main.command()
@config_option
@click.option("--no-feedback", is_flag=True, help="Train on the labelled posts only, not the index's feedback.")
@click.option("--labelled", "labelled", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A labelled JSON Lines file to train on instead of the bundled ones (repeatable).")
def train(config_path: str | None, no_feedback: bool, labelled: tuple[str, ...]) -> None:
    """Train the learned reader on the bundled labelled posts plus the team's feedback.

    Writes the model into the data directory, where analyze, ingest, run and
    serve find it; prints cross-validated precision, recall and F1 per label and
    the change in F1 against the model used before.
    """
    from listener.index import open_backend
    from listener.learning import train as train_reader

    config = resolve_config(config_path)
    files = [Path(p) for p in labelled] or None
    try:
        if no_feedback:
            summary = train_reader(config, None, files)
        else:
            with open_backend(config) as backend:
                summary = train_reader(config, backend, files)
    except ValueError as exc:  # nlp's TrainingError and CorpusError
        raise ListenerError(str(exc)) from None
    result = summary.result
    click.echo(f"trained on {result.rows} posts: " + ", ".join(f"{n} {name}" for name, n in sorted(result.sources.items())))
    click.echo(f"model: {result.paths['combined'].parent}")
    click.echo(f"  {'label':<24}{'P':>7}{'R':>7}{'F1':>7}{'n':>7}{'F1 change':>11}   (cross-validated)")
    for label, score in result.cross_validated["combined"].items():
        before = summary.previous.get(label, {}).get("f1")
        change = f"{score['f1'] - before:+.3f}" if before is not None else "new"
        click.echo(f"  {label:<24}{score['p']:7.3f}{score['r']:7.3f}{score['f1']:7.3f}{score['n']:7d}{change:>11}")


if __name__ == "__main__":
    main()
