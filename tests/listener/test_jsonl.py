import io
import json

import pytest

from listener.jsonl import MAX_DEPTH, MAX_LINE_BYTES, Notice, Rejection, read_posts
from listener.records import Post

GOOD = {"id": "1", "source": "rss", "text": "hola", "created_at": "2026-11-20T10:00:00Z"}


def read(*lines: bytes):
    return [item for _, item in read_posts(io.BytesIO(b"\n".join(lines)), "posts.jsonl") if not isinstance(item, Notice)]


def notices(*lines: bytes):
    return [str(item) for _, item in read_posts(io.BytesIO(b"\n".join(lines)), "posts.jsonl") if isinstance(item, Notice)]


def line(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_a_good_line_becomes_a_post_with_a_source_prefixed_id():
    (post,) = read(line())
    assert isinstance(post, Post)
    assert post.id == "rss:1" and post.created_at.tzinfo is not None


def test_malformed_json_is_rejected_with_its_line_and_the_next_line_still_read():
    items = read(line(id="1"), b'{"id": "2", "text": ', line(id="3"))
    assert [type(i).__name__ for i in items] == ["Post", "Rejection", "Post"]
    assert str(items[1]).startswith("posts.jsonl, line 2: malformed JSON")


def test_missing_field_is_named():
    data = dict(GOOD)
    del data["text"]
    (item,) = read(json.dumps(data).encode())
    assert isinstance(item, Rejection) and "missing field 'text'" in item.reason


def test_wrong_type_is_named():
    (item,) = read(line(reply_count="many"))
    assert "field 'reply_count'" in item.reason and "many" in item.reason


def test_non_utf8_bytes_are_rejected_with_the_column():
    (item,) = read(b'{"id": "1", "text": "caf\xe9"}')
    assert "not UTF-8 (byte 0xe9 at column" in item.reason


LONE_SURROGATE = b'{"id": "1", "source": "rss", "text": "bad \\ud800 text", "created_at": "2026-11-20T10:00:00Z"}'


def test_lone_surrogate_is_replaced_with_the_replacement_character():
    (post,) = read(LONE_SURROGATE)
    assert isinstance(post, Post) and post.text == "bad \ufffd text"


def test_lone_surrogate_replacement_is_noted_with_its_field():
    assert notices(LONE_SURROGATE) == ["posts.jsonl, line 1: field 'text': lone surrogate replaced with U+FFFD"]


def test_a_utf8_bom_does_not_lose_line_1():
    items = read(b"\xef\xbb\xbf" + line(id="1"), line(id="2"))
    assert [i.id for i in items] == ["rss:1", "rss:2"]


@pytest.mark.parametrize("created_at", ["10000-01-01T00:00:00Z", "0000-00-00", "9999-12-31T23:59:59-05:00",
                                        "0001-01-01T00:00:00+05:00", 1e20, -1e20])
def test_an_out_of_range_date_is_rejected_with_its_field(created_at):
    (item,) = read(line(created_at=created_at))
    assert isinstance(item, Rejection)
    assert str(item).startswith("posts.jsonl, line 1: field 'created_at': ")


def test_an_out_of_range_date_does_not_stop_the_next_line():
    items = read(line(id="1", created_at="10000-01-01T00:00:00Z"), line(id="2"))
    assert [type(i).__name__ for i in items] == ["Rejection", "Post"]


def test_a_unix_timestamp_in_seconds_is_a_time():
    (post,) = read(line(created_at=1763632800))
    assert post.created_at.isoformat() == "2025-11-20T10:00:00+00:00"


def test_a_string_of_digits_is_not_a_time():
    (item,) = read(line(created_at="1763632800"))
    assert isinstance(item, Rejection) and "field 'created_at'" in item.reason


def test_a_value_nested_100000_deep_is_rejected_with_its_field_and_the_next_line_read():
    deep = b'{"id": "1", "source": "rss", "text": "t", "created_at": "2026-11-20T10:00:00Z", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    items = read(deep, line(id="2"))
    assert isinstance(items[0], Rejection) and isinstance(items[1], Post)
    assert items[0].reason == f"field 'extra': value nested more than {MAX_DEPTH} levels deep"


def test_a_value_too_deep_for_the_limit_but_not_for_the_parser_is_rejected():
    nested: object = "x"
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    (item,) = read(line(text=nested))
    assert item.reason.startswith("field 'text': value nested more than")


def test_nfd_text_is_stored_nfc():
    (post,) = read(line(text="Me encanto\u0301 la peli\u0301cula", title="Opinio\u0301n"))
    assert post.text == "Me encant\u00f3 la pel\u00edcula" and post.title == "Opini\u00f3n"


@pytest.mark.parametrize(("field", "value"), [("lang", 5), ("lang", ["es"]), ("thread_id", {"a": 1}),
                                              ("parent_id", {"a": 1}), ("replied_by", "cinesa"),
                                              ("reply_count", "3"), ("reply_count", True), ("reply_count", -1)])
def test_a_field_of_the_wrong_type_is_rejected_with_its_name(field, value):
    (item,) = read(line(**{field: value}))
    assert isinstance(item, Rejection) and item.reason.startswith(f"field {field!r}: ")


def test_an_unknown_field_is_reported_and_the_post_still_read():
    (post,) = read(line(colour="red"))
    assert isinstance(post, Post)
    assert notices(line(colour="red")) == ["posts.jsonl, line 1: unknown field 'colour'; the field is ignored, the post kept"]


def test_a_misspelled_required_field_says_what_was_meant():
    data = dict(GOOD, txt="hola")
    del data["text"]
    (item,) = read(json.dumps(data).encode())
    assert item.reason == "missing field 'text'; unknown field 'txt' (did you mean 'text'?)"


def test_a_rejection_keeps_the_line_as_read():
    (item,) = read(b'{"id": "2", "text": ')
    assert item.raw == '{"id": "2", "text": '


def test_oversized_line_is_rejected_and_the_next_kept():
    big = line(text="x" * (MAX_LINE_BYTES + 10))
    items = read(big, line(id="2"))
    assert isinstance(items[0], Rejection) and "over the" in items[0].reason
    assert isinstance(items[1], Post)


def test_a_json_array_is_not_a_post():
    (item,) = read(b"[1, 2]")
    assert "expected a JSON object, found list" in item.reason


def test_blank_lines_are_skipped_and_line_numbers_stay_true():
    items = list(read_posts(io.BytesIO(b"\n\n" + b"nope\n"), "f"))
    assert items[0][0] == 3
