import json

from listener.deadletter import DeadLetter, DeadLetterFile


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dead_letters_are_appended_one_object_per_line(tmp_path):
    letters = DeadLetterFile(tmp_path / "data" / "dead-letter.jsonl")
    letters.add([DeadLetter("posts.jsonl:2", "malformed JSON", line="{broken")])
    letters.add([DeadLetter("rss", "not indexed (timed out)", record={"id": "rss:1"})])
    assert [sorted(entry) for entry in lines(letters.path)] == [["at", "line", "origin", "reason"], ["at", "origin", "reason", "record"]]


def test_a_replay_keeps_what_was_appended_while_it_ran(tmp_path):
    letters = DeadLetterFile(tmp_path / "dead-letter.jsonl")
    letters.add([DeadLetter("a.jsonl:1", "bad", line="x")])
    entries, size = letters.read()
    letters.add([DeadLetter("b.jsonl:1", "bad", line="y")])  # another ingest, mid-replay
    letters.replace([DeadLetter("a.jsonl:1", "still bad", line="x")], size)
    assert [(e["origin"], e["reason"]) for e in lines(letters.path)] == [("a.jsonl:1", "still bad"), ("b.jsonl:1", "bad")]


def test_a_line_that_is_not_json_is_read_as_its_text(tmp_path):
    path = tmp_path / "dead-letter.jsonl"
    path.write_text('{"line": "x", "origin": "f:1", "reason": "r"}\nnot json\n')
    entries, size = DeadLetterFile(path).read()
    assert entries == [(1, {"line": "x", "origin": "f:1", "reason": "r"}), (2, "not json")] and size == path.stat().st_size
