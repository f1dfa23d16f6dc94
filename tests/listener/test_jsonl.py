import io
import json

from listener.jsonl import MAX_LINE_BYTES, Rejection, read_posts
from listener.records import Post

GOOD = {"id": "1", "source": "rss", "text": "hola", "created_at": "2026-11-20T10:00:00Z"}


def read(*lines: bytes):
    return [item for _, item in read_posts(io.BytesIO(b"\n".join(lines)), "posts.jsonl")]


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


def test_lone_surrogate_is_rejected():
    (item,) = read(b'{"id": "1", "source": "rss", "text": "bad \\ud800 text", "created_at": "2026-11-20T10:00:00Z"}')
    assert isinstance(item, Rejection) and "lone surrogate" in item.reason


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
