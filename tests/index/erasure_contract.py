"""What every index backend does for a request to be forgotten and for retention (part of the contract suite)."""

from __future__ import annotations

from datetime import timedelta

from listener.index.base import SearchQuery
from listener.records import Mention
from listener.workflow import WorkflowChange
from tests.factories import T0, doc


def _add(backend, *docs):
    result = backend.upsert(docs)
    assert not result.failed, result.failed
    backend.refresh()
    return docs


class ErasureContract:
    def test_every_spelling_of_a_handle_finds_the_authors_posts(self, backend):
        a, b, c, _, _ = _add(
            backend,
            doc("uno", post_fields={"author": "@Pepe"}),
            doc("dos", post_fields={"author": "pepe"}),
            doc("tres", post_fields={"author": "PEPE"}),
            doc("cuatro", post_fields={"author": "pepe2"}),
            doc("cinco", post_fields={"author": "@pepe@mastodon.social"}),
        )
        for spelling in ("@pepe", "pepe", "@PEPE"):
            assert sorted(backend.posts_by(spelling)) == sorted([a.id, b.id, c.id])

    def test_erasing_at_handle_erases_posts_stored_under_the_bare_handle(self, backend):
        a, b = _add(backend, doc("uno", post_fields={"author": "pepe"}), doc("dos", post_fields={"author": "maria"}))
        assert backend.delete_by_author("@Pepe") == 1
        backend.refresh()
        assert backend.get(a.id) is None and backend.get(b.id) is not None

    def test_a_mastodon_address_is_one_account_not_every_account_of_that_name(self, backend):
        a, b = _add(backend, doc("uno", post_fields={"author": "@bob@mastodon.social"}), doc("dos", post_fields={"author": "@bob"}))
        assert backend.posts_by("@Bob@Mastodon.Social") == [a.id]
        assert backend.posts_by("bob") == [b.id]

    def test_others_mentions_of_the_handle_are_replaced_and_the_rest_kept(self, backend):
        text = "Hola @pepe, ¿Cinesa abre hoy? Pregunta también @PePe."
        start = text.index("Cinesa")
        mention = Mention(entity="Cinesa", role="brand", text="Cinesa", start=start, end=start + 6, how="name")
        (other,) = _add(backend, doc(text, mentions=(mention,), post_fields={"author": "maria", "title": "Para @pepe",
                                                                              "replied_by": ("pepe", "luis")}))
        untouched = _add(backend, doc("Nada que ver con pepe sin arroba", post_fields={"author": "ana"}))[0]
        assert backend.redact_mentions("@pepe") == 1
        got = backend.get(other.id)
        assert got.post.text == "Hola @[erased], ¿Cinesa abre hoy? Pregunta también @[erased]."
        assert got.post.title == "Para @[erased]" and got.post.replied_by == ("luis",)
        (moved,) = got.analysis.mentions
        assert got.post.text[moved.start:moved.end] == "Cinesa"
        assert backend.get(untouched.id).post == untouched.post
        assert backend.search(SearchQuery(text="pepe")).total == 1  # only the post without the @

    def test_the_teams_notes_about_others_lose_the_handle_and_keep_their_version(self, backend):
        (other,) = _add(backend, doc("¿Cinesa abre?", post_fields={"author": "maria"}))
        workflow = backend.update_workflow(other.id, 0, WorkflowChange(note="ya hablé con @pepe", actor="ana"))
        backend.redact_mentions("pepe")
        got = backend.get(other.id).workflow
        assert [n.text for n in got.notes] == ["ya hablé con @[erased]"] and got.version == workflow.version

    def test_posts_published_before_a_cutoff_are_found_for_retention(self, backend):
        old, new = _add(backend, doc("vieja", minutes=-60 * 24 * 40), doc("nueva"))
        assert backend.ids_created_before(T0 - timedelta(days=30)) == [old.id]

    def test_purge_keeps_every_post_that_was_not_erased(self, backend):
        a, b = _add(backend, doc("uno", post_fields={"author": "pepe"}), doc("dos", post_fields={"author": "maria"}))
        backend.delete_by_author("pepe")
        backend.purge()
        backend.refresh()
        assert backend.get(b.id).post == b.post and backend.count() == 1
        assert backend.search(SearchQuery(text="dos")).total == 1
