"""CSV exports, comma- or semicolon-separated. Cells a spreadsheet would run as a formula are defused.

A spreadsheet runs a cell as a formula when it starts with ``= + - @`` (or
their full-width forms), a tab or a carriage return, also after spaces. A
cell's text is therefore prefixed with ``'`` when it starts so, and so is the
text after every ``;``, ``,`` or line break in it that starts so: a
spreadsheet that guesses the other separator than the one the file uses (Excel
in most of Europe splits on ``;``), or an importer that reads line by line,
cuts such a cell in two, and the second half must not be a formula either. Numbers are written as numbers.

Excel set up for Spanish or Catalan splits on ``;``, reads ``0,75`` as a number
and needs a byte-order mark to read UTF-8, so a page in es or ca exports that
way (:func:`spreadsheet`); in English, ``,`` and ``0.75`` without a mark.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from listener.records import IndexedPost, format_time
from listener.web.gaps import GapReport

FORMULA = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20"  # = + - @ tab CR and full-width = + - @
STARTS_FORMULA = re.compile(f"^[ \"]*[{FORMULA}]")
SEPARATOR_BEFORE_FORMULA = re.compile(f"([;,\r\n])(?=[ \"]*[{FORMULA}])")
DELIMITERS = (",", ";")
BOM = "\ufeff"

GAP_COLUMNS = [
    "entity", "role", "posts", "share_of_voice", "complaints", "complaint_rate",
    "posts_with_known_reply_state", "unanswered", "unanswered_rate", "posts_with_reply_time", "median_first_reply_minutes",
]
POST_COLUMNS = [
    "id", "created_at", "source", "author", "url", "language", "entities", "intents", "customer_status",
    "lead_score", "reasons", "answer_state", "status", "assignee", "title", "text",
]


@dataclass(frozen=True, slots=True)
class Spreadsheet:
    """How a CSV file is written for a spreadsheet: the field separator, the decimal mark, a byte-order mark first."""

    delimiter: str = ","
    decimal: str = "."
    bom: bool = False


def spreadsheet(language: str, delimiter: str | None = None) -> Spreadsheet:
    """What Excel in ``language`` reads: es and ca ``;``, ``0,75`` and a BOM; en ``,`` and ``0.75``.
    A ``delimiter`` asked for wins; the decimal mark is a comma only with ``;``."""
    if language in ("es", "ca"):
        chosen = delimiter or ";"
        return Spreadsheet(chosen, "," if chosen == ";" else ".", bom=True)
    return Spreadsheet(delimiter or ",")


def _cell(value, decimal: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 4)).replace(".", decimal)
    if isinstance(value, int):
        return str(value)
    return defuse(str(value))


def defuse(text: str) -> str:
    """``text`` with nothing a spreadsheet would run, whichever of ``,`` and ``;`` it splits on."""
    text = SEPARATOR_BEFORE_FORMULA.sub(r"\1'", text)
    return "'" + text if STARTS_FORMULA.match(text) else text


def _rows(header: list[str], rows: Iterable[list], sheet: str | Spreadsheet = ",") -> Iterator[str]:
    sheet = sheet if isinstance(sheet, Spreadsheet) else Spreadsheet(sheet)
    if sheet.delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of {DELIMITERS}, not {sheet.delimiter!r}")
    buffer = io.StringIO()
    if sheet.bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=sheet.delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v, sheet.decimal) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def gaps_csv(report: GapReport, sheet: str | Spreadsheet = ",") -> Iterator[str]:
    rows = (
        [
            e.name, e.role, e.posts, e.share, e.complaints, e.complaint_rate, e.known_answer, e.unanswered, e.unanswered_rate,
            e.timed_replies, round(e.median_first_reply.total_seconds() / 60, 1) if e.median_first_reply else None,
        ]
        for e in report.entities
    )
    return _rows(GAP_COLUMNS, rows, sheet)


def timeline_csv(report: GapReport, sheet: str | Spreadsheet = ",") -> Iterator[str]:
    rows = (
        [format_time(start), name, counts.get(name, 0), counts.get(name, 0) / total if total else 0.0]
        for start, counts in report.timeline
        for total in [sum(counts.values())]
        for name in [e.name for e in report.entities]
    )
    return _rows(["bucket_start", "entity", "posts", "share_of_voice"], rows, sheet)


def posts_csv(hits: Iterable[IndexedPost], sheet: str | Spreadsheet = ",") -> Iterator[str]:
    rows = (
        [
            h.id, format_time(h.post.created_at), h.post.source, h.post.author, h.post.url, h.analysis.language,
            "|".join(h.analysis.entities), "|".join(h.analysis.intents), h.analysis.customer_status, h.analysis.lead_score,
            "|".join(h.analysis.reasons), h.answer_state, h.workflow.status, h.workflow.assignee, h.post.title, h.post.text,
        ]
        for h in hits
    )
    return _rows(POST_COLUMNS, rows, sheet)
