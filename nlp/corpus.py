"""Real public posts for training and evaluation, kept as ids and labels beside the texts' own files.

A labelled line names its post by id (``es-airline:<tweet id>``,
``tweetlid:<tweet id>``, ``us-airline:<tweet id>``); its text is read from the
source's file under the training data folders: those of ``$LISTENER_TRAINING_DATA``
(separated by ``:``), then every ``shared/data`` folder beside the working
directory or the package and their parents. Each source, its licence and its rows are listed in ``DATA.md``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LABELLED = Path(__file__).parent / "data" / "labelled"
# The posts kept apart to judge the reader (``listener eval``), never trained on; in a checkout only.
HELDOUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "heldout" / "heldout.jsonl"


class CorpusError(ValueError):
    """A labelled file or a source file that cannot be read: the message names it."""


@dataclass(frozen=True)
class Source:
    prefix: str
    path: str             # relative to the training data folder
    id_column: str
    text_column: str
    delimiter: str = ","
    author_column: str | None = None
    # TweetLID's file is tab-separated without quoting rules: a '"' is part of the text, and a
    # field wholly in quotes is unquoted here.
    quoted: bool = True


SOURCES = {
    source.prefix: source
    for source in (
        Source("es-airline", "es-airline-tweets/tweets.csv", "tweet_id", "text"),
        Source("tweetlid", "tweetlid-train/tweets.tsv", "tweet_id", "text", "\t", "user", quoted=False),
        Source("us-airline", "us-airline-tweets/Tweets.csv", "tweet_id", "text", ",", "name"),
    )
}


def data_folders() -> list[Path]:
    """Where source files are looked for, first match wins."""
    named = [Path(p).expanduser() for p in os.environ.get("LISTENER_TRAINING_DATA", "").split(os.pathsep) if p]
    here = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parent, *Path(__file__).resolve().parents]
    return named + [folder / "shared" / "data" for folder in here]


def source_file(prefix: str) -> Path | None:
    """The file of a source in the first training data folder that has it."""
    source = SOURCES[prefix]
    return next((folder / source.path for folder in data_folders() if (folder / source.path).is_file()), None)


def texts_of(prefix: str, with_columns: tuple[str, ...] = ()) -> dict[str, tuple] | None:
    """``{native id: (text, author, {column: value})}`` of a source, or None when its file is not here."""
    source = SOURCES[prefix]
    path = source_file(prefix)
    if path is None:
        return None
    quoting = csv.QUOTE_MINIMAL if source.quoted else csv.QUOTE_NONE
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter=source.delimiter, quoting=quoting)
        return {row[source.id_column]: (_unquoted(row[source.text_column]) if not source.quoted else row[source.text_column],
                                        row.get(source.author_column or ""),
                                        {column: row.get(column) for column in with_columns})
                for row in rows}


def _unquoted(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


@lru_cache(maxsize=None)
def _texts(prefix: str) -> dict[str, tuple] | None:
    return texts_of(prefix)


def available(prefix: str) -> bool:
    return prefix in SOURCES and _texts(prefix) is not None


def text_of(post_id: str) -> tuple[str, str | None] | None:
    """The text and author of a post of a known source, or None when its file is not here."""
    prefix, _, native = post_id.partition(":")
    if prefix not in SOURCES:
        return None
    texts = _texts(prefix)
    found = texts.get(native) if texts is not None else None
    return found[:2] if found is not None else None


def read_labelled(path: str | Path) -> Iterator[dict]:
    """The lines of a labelled file, each with its ``text`` filled in when the source file is here.

    Lines whose source is not here are skipped; a line that is not valid raises
    :class:`CorpusError` naming the file and line.
    """
    for data in _labelled_lines(Path(path)):
        if "text" not in data:
            found = text_of(data["id"])
            if found is None:
                continue
            data["text"], author = found
            data.setdefault("author", author)
        yield data


def _labelled_lines(path: Path) -> Iterator[dict]:
    """Each line of a labelled file, checked: an ``id`` and an object of ``labels``."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                _, labels = data["id"], data["labels"]  # both must be there
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}:{number}: not a labelled line ({exc.__class__.__name__}: {exc})") from None
            if not isinstance(labels, dict):
                raise CorpusError(f"{path}:{number}: field 'labels': expected an object")
            yield data


def labelled_files() -> list[Path]:
    return sorted(LABELLED.glob("*.jsonl"))


def labelled_ids(paths: Iterable[Path]) -> set[str]:
    """The post ids of labelled files, whether or not their texts are here."""
    return {data["id"] for path in paths for data in _labelled_lines(Path(path))}
