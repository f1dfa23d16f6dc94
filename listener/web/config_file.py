"""The configuration file as the settings page changes it: read, edited, checked, written back.

The file is read with ruamel.yaml's round-trip loader, so an edit keeps the
file's comments, key order, quotes and flow style, and a top-level section the
edit left as it was is written back exactly as it was. The new text is checked
by the loader ``listener serve`` uses (:func:`listener.config.parse_config`,
then the ``web`` and ``alerts`` sections), and is written beside the file and
renamed over it, so a process reading the file never sees half of it.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from listener.config import Config, parse_config
from listener.errors import ConfigError
from listener.web.settings import WebSettings, web_settings
from scheduler.settings import alerts_config


def _yaml() -> YAML:
    editor = YAML(typ="rt")
    editor.preserve_quotes = True
    editor.indent(mapping=2, sequence=4, offset=2)
    editor.width = 4096  # a long line stays one line rather than being folded
    return editor


def version_of(text: str) -> str:
    """What a form carries to say which state of the file it was made from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Draft:
    """The file as read (``text``), and ``document``, its round-trip tree, to be edited in place."""

    text: str
    document: CommentedMap

    @property
    def version(self) -> str:
        return version_of(self.text)

    def result(self) -> str:
        """The edited document as YAML, each top-level section the edit did not change as it was written."""
        out = io.StringIO()
        _yaml().dump(self.document, out)
        return _keep_unchanged_sections(self.text, out.getvalue())


class ConfigFile:
    """One configuration file that the web app may change."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def read(self) -> Draft:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: cannot read the configuration file ({exc})") from None
        try:
            document = _yaml().load(text)
        except YAMLError as exc:
            raise ConfigError(f"{self.path}: not valid YAML ({exc})") from None
        if document is None:
            document = CommentedMap()
        if not isinstance(document, CommentedMap):
            raise ConfigError(f"{self.path}, line 1: expected a mapping of sections, found {type(document).__name__}")
        return Draft(text, document)

    def check(self, text: str) -> tuple[Config, WebSettings]:
        """``text`` as this file's configuration, checked as when it is loaded, or :class:`ConfigError`
        with every mistake: those in the ``web`` and ``alerts`` sections too when the rest has some."""
        try:
            config = parse_config(text, str(self.path))
        except ConfigError as error:
            problems = list(error.problems)
            data = yaml.safe_load(text)
            sections = {key: data[key] for key in ("web", "alerts") if isinstance(data.get(key), dict)}
            for check in (web_settings, alerts_config):
                try:
                    check(Config(**sections, origin=str(self.path)))
                except ConfigError as more:
                    problems += more.problems
            raise ConfigError(str(error), problems=problems) from None
        problems = []
        try:
            settings = web_settings(config)
        except ConfigError as error:
            problems, settings = [error], None
        try:
            alerts_config(config)
        except ConfigError as error:
            problems.append(error)
        if problems:
            raise ConfigError("; ".join(map(str, problems)), problems=[p for error in problems for p in error.problems]) from None
        return config, settings

    def write(self, text: str) -> None:
        """Replace the file's content with ``text``: written beside it, then renamed over it."""
        target = self.path.resolve()
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, mode)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise


# -- changing the document as little as possible ------------------------------------------


def put(mapping: CommentedMap, key: str, value: Any) -> None:
    """Set ``mapping[key]``; ``None`` removes it. A list already there is changed in place, keeping its
    style; a new list of words is written inline (``[a, b]``), as in the files shipped."""
    if value is None:
        mapping.pop(key, None)
        return
    current = mapping.get(key)
    if isinstance(current, CommentedSeq) and isinstance(value, list):
        current[:] = value
    else:
        mapping[key] = styled(value)


def styled(value: Any, flow: bool = False) -> Any:
    """``value`` as a round-trip node: lists inline; mappings inline too when ``flow``."""
    if isinstance(value, list):
        seq = CommentedSeq(styled(v, flow) for v in value)
        if all(not isinstance(v, (dict, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict):
        node = CommentedMap((k, styled(v, flow)) for k, v in value.items())
        if flow:
            node.fa.set_flow_style()
        return node
    return value


def like_siblings(siblings: CommentedSeq, value: dict) -> CommentedMap:
    """A new entry of a list of mappings, inline when the entries before it are."""
    flow = bool(siblings) and isinstance(siblings[-1], CommentedMap) and siblings[-1].fa.flow_style()
    return styled(value, flow=flow)


def section(document: CommentedMap, *keys: str) -> CommentedMap:
    """The mapping at ``keys``, made (empty) where it is missing."""
    node = document
    for key in keys:
        if not isinstance(node.get(key), dict):
            node[key] = CommentedMap()
        node = node[key]
    return node


def entries(document: CommentedMap, *keys: str) -> CommentedSeq:
    """The list at ``keys``, made (empty) where it is missing."""
    parent = section(document, *keys[:-1])
    if not isinstance(parent.get(keys[-1]), list):
        parent[keys[-1]] = CommentedSeq()
    return parent[keys[-1]]


def _keep_unchanged_sections(before: str, after: str) -> str:
    """``after``, with every top-level section whose data equals that in ``before`` taken from ``before``."""
    old_spans, new_spans = _sections(before), _sections(after)
    if old_spans is None or new_spans is None:
        return after
    old_data, new_data = yaml.safe_load(before) or {}, yaml.safe_load(after) or {}
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    if old_lines and not old_lines[-1].endswith("\n"):
        old_lines[-1] += "\n"
    out, position = [], 0
    for key, (start, end) in new_spans.items():
        out += new_lines[position:start]
        if key in old_spans and key in old_data and old_data[key] == new_data.get(key):
            old_start, old_end = old_spans[key]
            out += old_lines[old_start:old_end]
        else:
            out += new_lines[start:end]
        position = end
    out += new_lines[position:]
    text = "".join(out)
    return text if yaml.safe_load(text) == new_data else after


def _sections(text: str) -> dict[str, tuple[int, int]] | None:
    """Each top-level key's lines, ``[start, end)``: from its own line to the next key's."""
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError:
        return None
    if not isinstance(document, CommentedMap):
        return None
    starts = [(key, document.lc.key(key)[0]) for key in document]
    total = len(text.splitlines())
    return {key: (start, starts[i + 1][1] if i + 1 < len(starts) else total) for i, (key, start) in enumerate(starts)}
