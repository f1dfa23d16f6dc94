from listener.config import parse_config
from listener.index.sqlite import SQLiteBackend
from listener.jsonl import Rejection
from listener.pipeline import Pipeline
from tests.factories import post

CONFIG = parse_config("""
brand: {name: Cinesa, aliases: [cinesa], handles: ["@cinesa"]}
competitors: [{name: Yelmo Cines, aliases: [yelmo], handles: ["@yelmocines"]}]
""")


def test_ingest_indexes_good_posts_and_reports_each_failure_by_kind(tmp_path):
    with SQLiteBackend(tmp_path / "i.db") as backend:
        backend.ensure_schema()
        unwritable = post("Cinesa no funciona", url="https://x.com/\ud800")  # a lone surrogate is not UTF-8
        items = [post("¿Alguien sabe si Cinesa abre hoy?"), Rejection("f.jsonl", 2, "malformed JSON"), unwritable]
        report = Pipeline(CONFIG, backend).ingest(items)
        assert (report.read, report.indexed) == (3, 1)
        assert len(report.failed_writes) == 1
        assert report.failed_writes[0].startswith(f"{unwritable.id}: not indexed (")
        assert len(report.rejected) == 2 and "f.jsonl, line 2: malformed JSON" in report.rejected
        assert backend.get(unwritable.id) is None


def test_thread_state_comes_from_who_replied(tmp_path):
    with SQLiteBackend(tmp_path / "i.db") as backend:
        backend.ensure_schema()
        ours = post("Cinesa, ¿me devolvéis el dinero?", reply_count=1, replied_by=("@cinesa",))
        theirs = post("¿Yelmo o Cinesa?", reply_count=1, replied_by=("yelmocines",))
        nobody = post("¿Cinesa abre hoy?", reply_count=0)
        Pipeline(CONFIG, backend).ingest([ours, theirs, nobody])
        assert backend.get(ours.id).answer_state == "answered_by_brand"
        assert backend.get(theirs.id).answer_state == "answered_by_competitor"
        assert backend.get(nobody.id).answer_state == "unanswered"


def test_a_post_the_index_refuses_goes_to_the_dead_letter_file_as_a_record_with_its_origin(tmp_path):
    from listener.deadletter import DeadLetterFile

    letters = DeadLetterFile(tmp_path / "dead-letter.jsonl")
    with SQLiteBackend(tmp_path / "i.db") as backend:
        backend.ensure_schema()
        unwritable = post("Cinesa no funciona", url="https://x.com/\ud800")
        report = Pipeline(CONFIG, backend).ingest([post("Cinesa abre"), ("posts.jsonl:7", unwritable)], dead_letter=letters)
    assert report.failed_writes[0].startswith(f"posts.jsonl:7: {unwritable.id}: not indexed (")
    (entry,), _ = letters.read()
    assert entry[1]["origin"] == "posts.jsonl:7" and entry[1]["record"]["id"] == unwritable.id
    assert entry[1]["reason"].startswith("not indexed (")


def test_a_crawled_post_in_nfd_is_indexed_in_nfc(tmp_path):
    with SQLiteBackend(tmp_path / "i.db") as backend:
        backend.ensure_schema()
        nfd = post("La cancio\u0301n de Cinesa")
        Pipeline(CONFIG, backend).ingest([nfd])
        assert backend.get(nfd.id).post.text == "La canci\u00f3n de Cinesa"
