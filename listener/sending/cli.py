"""``listener reply``, registered in :data:`listener.cli.LAZY_COMMANDS`."""

from __future__ import annotations

import getpass
import sys

import click

from listener.clitools import config_option, resolve_config
from listener.errors import ListenerError, NotFoundError
from listener.sending.base import RETRYABLE
from listener.sending.outbox import Outbox, SendFailedError, new_key
from listener.sending.platforms import Sender


@click.command()
@config_option
@click.argument("post_id")
@click.option("--text", help="The reply (default: the post's saved draft). It is kept as the draft.")
@click.option("--send", "send", is_flag=True, help="Send it through the platform's API and mark the post answered.")
@click.option("--link", metavar="URL", help="Instead, record a reply sent by hand by its link and mark the post answered.")
@click.option("--key", help="Idempotency key: sending again with the key a send printed never posts twice (default: a new one).")
@click.option("--by", default=getpass.getuser, show_default="your login name", help="Who is sending, as recorded on the post.")
def reply(config_path: str | None, post_id: str, text: str | None, send: bool, link: str | None, key: str | None, by: str) -> None:
    """Say whether POST_ID's reply can be sent from here, and send it (--send) or record its link (--link).

    Exits 1 when the platform did not take the reply (the text stays as the draft).
    """
    from listener.index import open_backend

    if send and link:
        raise click.UsageError("give --send or --link, not both")
    config = resolve_config(config_path)
    with open_backend(config) as backend:
        outbox = Outbox(backend, Sender(config.sources))
        hit = backend.get(post_id)
        if hit is None:
            raise NotFoundError(f"no post with id {post_id!r}", hint="`listener inbox` lists the posts to answer with their ids.")
        if link:
            done = outbox.mark_answered(by, post_id, hit.workflow.version, link)
            click.echo(f"{post_id}: marked answered, reply at {done.reply_url}")
            return
        route = outbox.sender.route(hit.post)
        body = text if text is not None else hit.workflow.reply_draft
        if not send:
            click.echo(f"{post_id}: " + (f"can be sent on {route.adapter.platform}" if route.sendable else f"not sent from here: {route.reason}"))
            if hit.workflow.sent:
                click.echo(f"already answered by {hit.workflow.sent.by}: {hit.workflow.sent.reply_url or hit.workflow.sent.reply_id}")
            click.echo(body or "(no draft saved; give --text)")
            return
        if not body:
            raise ListenerError(f"{post_id} has no saved draft", hint="Give the reply with --text.")
        key = key or new_key()
        try:
            done = outbox.send(by, post_id, hit.workflow.version, body, key)
        except SendFailedError as exc:
            retry = f" (retry after {exc.record.retry_at:%Y-%m-%d %H:%M} UTC)" if exc.record.retry_at else ""
            click.secho(f"Not sent: {exc}{retry}", fg="red", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            if exc.record.error in RETRYABLE:
                click.echo(f"Nothing was posted: send again with --key {key} to retry it.", err=True)
            sys.exit(1)
        click.echo(f"{post_id}: sent as {done.reply_id}, {done.reply_url} (key {key})")
