"""Handles of erased authors: every spelling is one handle, and their mentions are found in others' text."""

from listener.suppression import ERASED, Handles, SuppressionList, handle_key
from tests.factories import post


def test_at_bare_and_any_case_are_one_handle():
    assert handle_key("@Ana") == handle_key("ana") == handle_key(" ANA ") == "ana"


def test_a_mastodon_address_keeps_its_server():
    assert handle_key("@Ana@Mastodon.Social") == "ana@mastodon.social" != handle_key("@ana")


def test_mentions_are_replaced_but_longer_names_and_emails_are_not():
    handles = Handles.of("@ana")
    text, edits = handles.redact("@ana y @ANA. pero no @anabel, ni ana@example.org ni @ana@mastodon.social")
    assert text == f"{ERASED} y {ERASED}. pero no @anabel, ni ana@example.org ni @ana@mastodon.social"
    assert len(edits) == 2


def test_a_mastodon_mention_is_replaced_whole():
    text, _ = Handles.of("@bob@mastodon.social").redact("gracias @Bob@mastodon.social y @bob")
    assert text == f"gracias {ERASED} y @bob"


def test_ingest_filter_skips_the_authors_posts_and_redacts_mentions_of_them(tmp_path):
    suppression = SuppressionList(tmp_path / "suppressed-authors.txt")
    assert suppression.add("@Ana", "ana") == 1  # one handle, however written
    kept, skipped = suppression.filter([post("mío", author="ana"), post("hola @ANA", author="luis", replied_by=("@ana",))])
    assert skipped == 1
    assert [(p.text, p.replied_by) for p in kept] == [(f"hola {ERASED}", ())]


def test_a_list_added_to_by_another_process_is_read_again(tmp_path):
    path = tmp_path / "suppressed-authors.txt"
    reader = SuppressionList(path)
    assert not reader.handles()
    SuppressionList(path).add("@ana")
    assert "ANA" in reader.handles()
