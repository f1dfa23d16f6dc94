"""What every ``listener`` command shares: the config option and error handling.

Command modules of other layers (the scheduler, the web app) import these and
are registered in :mod:`listener.cli`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from listener import redaction
from listener.config import Config, load_config
from listener.errors import ListenerError

CONFIG_HELP = "Brand configuration (YAML). Default: $LISTENER_CONFIG, else ./listener.yaml, else built-in defaults."


def resolve_config(path: str | None) -> Config:
    path = path or os.environ.get("LISTENER_CONFIG")
    if path is None and Path("listener.yaml").exists():
        path = "listener.yaml"
    config = load_config(path)
    redaction.watch_config(config)  # the credentials it names never reach a log line or error
    return config


config_option = click.option("--config", "-c", "config_path", metavar="FILE", help=CONFIG_HELP)


class ListenerGroup(click.Group):
    """Prints a :class:`ListenerError` as one sentence with its hint, exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ListenerError as exc:
            click.secho(f"Error: {redaction.redact(str(exc))}", fg="red", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(0)
