"""``listener serve`` and ``listener user``, registered in :data:`listener.cli.LAZY_COMMANDS`."""

from __future__ import annotations

import sys

import click

from listener.clitools import ListenerGroup, config_option, resolve_config
from listener.errors import ListenerError
from listener.web.users import ROLES


@click.command()
@config_option
@click.option("--host", metavar="ADDRESS", help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", "-p", type=click.IntRange(0, 65535), help="Port (default: web.port, 8000); 0 picks a free one.")
def serve(config_path: str | None, host: str | None, port: int | None) -> None:
    """Serve the team inbox, the analysts' pages and the JSON API."""
    from listener.index import open_backend
    from listener.web.server import serve as run
    from listener.web.settings import web_settings

    config = resolve_config(config_path)
    web_settings(config)  # a configuration mistake is reported before the index is opened
    with open_backend(config) as backend:
        try:
            run(config, backend, host=host, port=port, echo=click.echo, config_file=config.origin)
        except KeyboardInterrupt:
            pass


@click.group(cls=ListenerGroup)
def user() -> None:
    """The people who can log in to the web app."""


@user.command("add")
@config_option
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="agent: works the inbox; analyst: search and competitor pages; admin: both.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
def add(config_path: str | None, name: str, role: str, password_stdin: bool) -> None:
    """Add NAME to the users file (or change their role and password)."""
    from listener.web.app import users_path
    from listener.web.settings import web_settings
    from listener.web.users import add_user

    config = resolve_config(config_path)
    path = users_path(config, web_settings(config))
    if path is None:
        raise ListenerError("web.users_file is off, so there is no file to add users to", hint=f"Set users in ${web_settings(config).users_env} instead.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise ListenerError("the password is shorter than 8 characters")
    add_user(path, name, role, password)
    click.echo(f"{name} ({role}) can now log in. Users file: {path}")


@user.command("remove")
@config_option
@click.argument("name")
def remove(config_path: str | None, name: str) -> None:
    """Take NAME out of the users file; a running web app ends their sessions within seconds."""
    from listener.web.app import users_path
    from listener.web.settings import web_settings
    from listener.web.users import remove_user

    config = resolve_config(config_path)
    path = users_path(config, web_settings(config))
    if path is None or not remove_user(path, name):
        raise ListenerError(f"there is no user {name!r} in {path or 'the users file'}", hint="See who there is with `listener user list`.")
    click.echo(f"{name} can no longer log in; a running web app ends their sessions within seconds. Users file: {path}")


@user.command("list")
@config_option
def list_users(config_path: str | None) -> None:
    """Show who can log in, and with which role."""
    from listener.web.app import users_path
    from listener.web.settings import web_settings
    from listener.web.users import Users

    config = resolve_config(config_path)
    settings = web_settings(config)
    users = Users.load(users_path(config, settings), settings.users_env)
    if not len(users):
        click.echo("No users yet: add one with `listener user add NAME --role admin`.")
    for person in sorted(users, key=lambda u: u.name):
        click.echo(f"{person.name}\t{person.role}")
