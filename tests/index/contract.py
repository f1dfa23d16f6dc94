"""The behaviour every index backend must show.

Each backend's test module subclasses :class:`BackendContract` and provides a
``backend`` fixture with an empty, ready index. A gap is a strict xfail with a
reason in the subclass, never a silently skipped test.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from listener.errors import ConflictError, NotFoundError, TransitionError
from listener.index.base import QueryError, SearchQuery
from listener.records import Feedback
from listener.workflow import WorkflowChange
from tests.factories import T0, doc
from tests.index.erasure_contract import ErasureContract


def add(backend, *docs):
    result = backend.upsert(docs)
    assert not result.failed, result.failed
    backend.refresh()
    return docs


def ids(hits):
    return [h.id for h in hits]


def feedback(by="ana", minutes=0, **labels):
    return Feedback(labels=labels or {"complaint": False}, by=by, at=T0 + timedelta(hours=1, minutes=minutes))


class BackendContract(ErasureContract):
    # -- writing and reading -----------------------------------------------

    def test_upserted_post_reads_back_with_its_analysis(self, backend):
        (d,) = add(backend, doc("Cinesa no me devuelve el dinero", intents=("complaint",), lead_score=80))
        got = backend.get(d.id)
        assert got.post == d.post
        assert got.analysis == d.analysis
        assert got.answer_state == "unanswered"
        assert got.workflow.status == "new" and got.workflow.version == 0

    def test_a_posts_conversation_reads_back_with_why_its_state_is_unknown(self, backend):
        facts = {"thread_id": "test:root", "parent_id": "test:root", "reply_ids": ("test:r1",),
                 "replied_by": ("@pau",), "later_repliers": ("@cinesa",), "reply_check": "lookup_failed"}
        (d,) = add(backend, doc(answer_state="unknown", post_fields=facts))
        got = backend.get(d.id)
        assert got.post == d.post
        assert (got.reply_state, got.answered_by, got.reply_state_reason) == ("unknown", "nobody", "lookup_failed")

    def test_get_of_unknown_id_is_none(self, backend):
        assert backend.get("test:nope") is None

    def test_upserting_the_same_post_twice_keeps_one_copy_with_the_new_text(self, backend):
        (d,) = add(backend, doc("primera versión"))
        add(backend, replace(d, post=replace(d.post, text="segunda versión")))
        assert backend.count() == 1
        assert backend.get(d.id).post.text == "segunda versión"

    def test_recrawl_keeps_the_teams_workflow(self, backend):
        (d,) = add(backend, doc())
        backend.claim(d.id, "ana", expected_version=0)
        backend.update_workflow(d.id, 1, WorkflowChange(actor="ana", note="llamar mañana"))
        add(backend, replace(d, answer_state="answered_by_brand"))
        got = backend.get(d.id)
        assert got.workflow.status == "claimed"
        assert got.workflow.assignee == "ana"
        assert [n.text for n in got.workflow.notes] == ["llamar mañana"]
        assert got.answer_state == "answered_by_brand"

    def test_upsert_reports_every_written_id(self, backend):
        docs = [doc(f"post {i}") for i in range(25)]
        result = backend.upsert(docs)
        assert sorted(result.indexed) == sorted(d.id for d in docs)
        assert result.failed == []

    def test_a_post_that_cannot_be_written_is_reported_and_the_rest_of_its_batch_is_written(self, backend):
        good = [doc(f"bueno {i}") for i in range(5)]
        bad = doc("texto roto \ud800 aquí")
        result = backend.upsert([*good[:2], bad, *good[2:]])
        assert [post_id for post_id, _ in result.failed] == [bad.id]
        assert sorted(result.indexed) == sorted(d.id for d in good)
        backend.refresh()
        assert backend.count() == 5 and backend.get(bad.id) is None
        assert backend.search(SearchQuery(text="bueno", facets=("source",))).facets["source"] == [("test", 5)]

    def test_a_post_given_twice_in_one_batch_is_kept_once_as_last_given(self, backend):
        first = doc("primera versión", entities=("Cinesa",))
        last = replace(first, post=replace(first.post, text="última versión"), analysis=replace(first.analysis, lead_score=77))
        result = backend.upsert([first, doc("otro"), last])
        assert result.failed == [] and result.indexed.count(first.id) == 2
        backend.refresh()
        assert backend.count() == 2
        assert backend.get(first.id).post.text == "última versión" and backend.get(first.id).analysis.lead_score == 77
        assert backend.search(SearchQuery(text="primera")).total == 0
        assert dict(backend.search(SearchQuery(facets=("entity",))).facets["entity"]) == {"Cinesa": 2}

    def test_count_counts_what_a_query_matches(self, backend):
        add(backend, doc("entradas agotadas", surface=True), doc("hola", surface=False))
        assert backend.count() == 2
        assert backend.count(SearchQuery(surface=True)) == 1

    def test_a_post_with_an_id_over_512_bytes_is_written_and_found_by_it(self, backend):
        long = doc("identificador largo", post_fields={"id": "test:" + "é" * 400})
        others = [doc(f"vecino {i}") for i in range(20)]
        result = backend.upsert([*others[:10], long, *others[10:]])
        assert result.failed == [] and long.id in result.indexed and len(result.indexed) == 21
        backend.refresh()
        assert backend.get(long.id).post.id == long.id
        assert long.id in ids(backend.search(SearchQuery(text="identificador")).hits)

    def test_a_post_with_an_id_over_512_bytes_can_be_claimed_and_given_feedback(self, backend):
        (long,) = add(backend, doc(post_fields={"id": "test:" + "x" * 600}))
        backend.claim(long.id, "ana", expected_version=0)
        assert backend.add_feedback(long.id, feedback())
        got = backend.get(long.id)
        assert got.workflow.assignee == "ana" and len(got.feedback) == 1

    # -- full text ---------------------------------------------------------

    def test_search_finds_a_word_in_the_text(self, backend):
        a, _ = add(backend, doc("Las palomitas de Cinesa están frías"), doc("Yelmo tiene buenas butacas"))
        assert ids(backend.search(SearchQuery(text="palomitas")).hits) == [a.id]

    def test_search_ignores_accents_in_the_query(self, backend):
        (a,) = add(backend, doc("Qué película tan larga"))
        assert ids(backend.search(SearchQuery(text="pelicula")).hits) == [a.id]

    def test_search_ignores_accents_in_the_text(self, backend):
        (a,) = add(backend, doc("la pelicula empezo tarde"))
        assert ids(backend.search(SearchQuery(text="PELÍCULA")).hits) == [a.id]

    def test_an_nfd_query_finds_nfc_text(self, backend):
        (a,) = add(backend, doc("Ninguna canci\u00f3n"))
        assert ids(backend.search(SearchQuery(text="cancio\u0301n")).hits) == [a.id]

    def test_search_needs_every_word(self, backend):
        a, _ = add(backend, doc("sala tres sin aire"), doc("sala cinco perfecta"))
        assert ids(backend.search(SearchQuery(text="sala aire")).hits) == [a.id]

    def test_search_finds_spanish_inflections(self, backend):
        (a,) = add(backend, doc("Ninguna película me gustó"))
        assert ids(backend.search(SearchQuery(text="películas")).hits) == [a.id]

    def test_search_searches_the_title(self, backend):
        (a,) = add(backend, doc("cuerpo", post_fields={"title": "Reembolso imposible"}))
        assert ids(backend.search(SearchQuery(text="reembolso")).hits) == [a.id]

    def test_search_survives_query_syntax_characters(self, backend):
        add(backend, doc("hola"))
        result = backend.search(SearchQuery(text='"hola" OR (AND -: *^ ~'))
        assert result.total >= 0

    # -- filters, facets, sorting, paging -----------------------------------

    def test_filter_by_source(self, backend):
        a, _ = add(backend, doc("uno", post_fields={"source": "reddit"}), doc("dos", post_fields={"source": "rss"}))
        assert ids(backend.search(SearchQuery(filters={"source": "reddit"})).hits) == [a.id]

    def test_filter_by_entity_matches_any_mentioned_entity(self, backend):
        a, b, _ = add(
            backend,
            doc("a", entities=("Cinesa", "Yelmo Cines")),
            doc("b", entities=("Yelmo Cines",), role="competitor"),
            doc("c", entities=("Kinépolis",), role="competitor"),
        )
        found = backend.search(SearchQuery(filters={"entity": ["Yelmo Cines"]})).hits
        assert sorted(ids(found)) == sorted([a.id, b.id])

    def test_filter_by_intent_and_language_together(self, backend):
        a, _, _ = add(
            backend,
            doc("a", intents=("complaint", "churn"), language="es"),
            doc("b", intents=("complaint",), language="ca"),
            doc("c", intents=("praise",), language="es"),
        )
        query = SearchQuery(filters={"intent": ["complaint"], "language": ["es"]})
        assert ids(backend.search(query).hits) == [a.id]

    def test_filter_by_answer_state(self, backend):
        a, _ = add(backend, doc("a", answer_state="answered_by_competitor"), doc("b", answer_state="unanswered"))
        query = SearchQuery(filters={"answer_state": ["answered_by_competitor"]})
        assert ids(backend.search(query).hits) == [a.id]

    def test_filter_by_time_window(self, backend):
        _, b, _ = add(backend, doc("a", minutes=0), doc("b", minutes=60), doc("c", minutes=120))
        query = SearchQuery(since=T0 + timedelta(minutes=30), until=T0 + timedelta(minutes=90))
        assert ids(backend.search(query).hits) == [b.id]

    def test_facets_count_matching_posts_per_value(self, backend):
        add(
            backend,
            doc("a", entities=("Cinesa", "Yelmo Cines"), intents=("question",)),
            doc("b", entities=("Yelmo Cines",), intents=("complaint", "question")),
            doc("c", entities=("Cinesa",), intents=("praise",), post_fields={"source": "rss"}),
        )
        result = backend.search(SearchQuery(facets=("entity", "intent", "source")))
        assert dict(result.facets["entity"]) == {"Cinesa": 2, "Yelmo Cines": 2}
        assert dict(result.facets["intent"]) == {"question": 2, "complaint": 1, "praise": 1}
        assert dict(result.facets["source"]) == {"test": 2, "rss": 1}

    def test_facets_follow_the_query(self, backend):
        add(backend, doc("palomitas frías", entities=("Cinesa",)), doc("butacas", entities=("Yelmo Cines",)))
        result = backend.search(SearchQuery(text="palomitas", facets=("entity",)))
        assert dict(result.facets["entity"]) == {"Cinesa": 1}

    def test_facet_values_are_ordered_by_count(self, backend):
        add(backend, doc("a", language="ca"), doc("b", language="es"), doc("c", language="es"))
        result = backend.search(SearchQuery(facets=("language",)))
        assert result.facets["language"] == [("es", 2), ("ca", 1)]

    def test_facets_of_the_whole_index_follow_recrawls_workflow_changes_and_erasure(self, backend):
        a, b, c = add(
            backend,
            doc("a", entities=("Cinesa",), intents=("question",), language="es"),
            doc("b", entities=("Yelmo Cines",), intents=("complaint",), language="es"),
            doc("c", entities=("Cinesa",), intents=("praise",), language="ca", post_fields={"source": "rss"}),
        )
        add(backend, replace(b, analysis=replace(b.analysis, language="ca", intents=("praise", "question"))))
        backend.claim(a.id, "ana", expected_version=0)
        backend.delete([c.id])
        backend.refresh()
        facets = ("entity", "intent", "language", "source", "status", "assignee")
        result = backend.search(SearchQuery(facets=facets))
        assert result.total == 2
        assert {name: dict(values) for name, values in result.facets.items()} == {
            "entity": {"Cinesa": 1, "Yelmo Cines": 1},
            "intent": {"question": 2, "praise": 1},
            "language": {"es": 1, "ca": 1},
            "source": {"test": 2},
            "status": {"claimed": 1, "new": 1},
            "assignee": {"ana": 1},
        }

    def test_facets_of_a_filter_follow_recrawls_and_erasure(self, backend):
        a, b, c, d = add(
            backend,
            doc("a", entities=("Cinesa",), intents=("question",), language="es"),
            doc("b", entities=("Cinesa", "Yelmo Cines"), intents=("complaint",), language="es"),
            doc("c", entities=("Cinesa",), intents=("praise",), language="ca", post_fields={"source": "rss"}),
            doc("d", entities=("Yelmo Cines",), intents=("complaint",), language="es"),
        )
        add(backend, replace(a, analysis=replace(a.analysis, intents=("complaint",), language="ca")))
        backend.delete([c.id])
        backend.refresh()
        query = SearchQuery(filters={"entity": ["Cinesa"], "intent": ["complaint"]}, facets=("entity", "intent", "language", "source"))
        result = backend.search(query)
        assert result.total == 2
        assert sorted(ids(result.hits)) == sorted([a.id, b.id])
        assert {name: dict(values) for name, values in result.facets.items()} == {
            "entity": {"Cinesa": 2, "Yelmo Cines": 1},
            "intent": {"complaint": 2},
            "language": {"es": 1, "ca": 1},
            "source": {"test": 2},
        }
        assert backend.search(replace(query, filters={"entity": ["Ocine"]})).total == 0

    def test_sort_newest_and_oldest(self, backend):
        a, b, c = add(backend, doc("a", minutes=5), doc("b", minutes=1), doc("c", minutes=9))
        assert ids(backend.search(SearchQuery(sort="newest")).hits) == [c.id, a.id, b.id]
        assert ids(backend.search(SearchQuery(sort="oldest")).hits) == [b.id, a.id, c.id]

    def test_sort_by_score_breaks_ties_by_newest(self, backend):
        a, b, c = add(backend, doc("a", lead_score=40, minutes=1), doc("b", lead_score=90), doc("c", lead_score=40, minutes=5))
        assert ids(backend.search(SearchQuery(sort="score")).hits) == [b.id, c.id, a.id]

    def test_relevance_puts_the_better_match_first(self, backend):
        weak, strong = add(backend, doc("pido el reembolso de la entrada de ayer"), doc("reembolso, reembolso, reembolso"))
        assert ids(backend.search(SearchQuery(text="reembolso")).hits) == [strong.id, weak.id]

    def test_paging_gives_the_total_and_one_page(self, backend):
        add(backend, *[doc(f"post {i}", minutes=i) for i in range(7)])
        page = backend.search(SearchQuery(sort="oldest", limit=3, offset=3))
        assert page.total == 7
        assert [h.post.text for h in page.hits] == ["post 3", "post 4", "post 5"]

    def test_unknown_filter_field_is_a_clear_error(self, backend):
        with pytest.raises(QueryError, match="unknown field 'colour'"):
            backend.search(SearchQuery(filters={"colour": ["red"]}))

    # -- inbox -------------------------------------------------------------

    def test_inbox_shows_surfaced_open_posts_best_first(self, backend):
        low, high, _hidden = add(
            backend, doc("low", lead_score=30), doc("high", lead_score=95), doc("noise", lead_score=99, surface=False)
        )
        assert ids(backend.inbox()) == [high.id, low.id]

    def test_dismissed_and_resolved_posts_leave_the_inbox(self, backend):
        a, b, c = add(backend, doc("a"), doc("b"), doc("c"))
        backend.update_workflow(a.id, 0, WorkflowChange(actor="ana", status="dismissed"))
        backend.update_workflow(b.id, 0, WorkflowChange(actor="ana", status="answered"))
        backend.update_workflow(b.id, 1, WorkflowChange(actor="ana", status="resolved"))
        backend.refresh()
        assert ids(backend.inbox()) == [c.id]

    def test_posts_the_brand_already_answered_leave_the_inbox(self, backend):
        open_post, _ = add(backend, doc("a", answer_state="answered_by_competitor"), doc("b", answer_state="answered_by_brand"))
        assert ids(backend.inbox()) == [open_post.id]

    def test_inbox_filters_by_a_value_most_posts_have_and_by_one_only_one_has(self, backend):
        posts = [doc(f"post {i}", minutes=i, lead_score=i % 90, intents=("complaint",)) for i in range(300)]
        posts.append(doc("the only one", minutes=301, lead_score=10, entities=("Ocine",), intents=("praise",)))
        add(backend, *posts)
        complaints = sorted(posts[:300], key=lambda d: (d.analysis.lead_score, d.post.created_at), reverse=True)
        assert ids(backend.inbox({"intent": ["complaint"]}, limit=5)) == ids(complaints[:5])
        assert ids(backend.inbox({"intent": ["complaint"]}, limit=5, offset=5)) == ids(complaints[5:10])
        assert ids(backend.inbox({"entity": ["Ocine"]})) == [posts[-1].id]
        assert ids(backend.inbox({"entity": ["Ocine"], "intent": ["complaint"]})) == []

    def test_inbox_filters_by_assignee(self, backend):
        a, _ = add(backend, doc("a"), doc("b"))
        backend.claim(a.id, "ana", 0)
        backend.refresh()
        assert ids(backend.inbox({"assignee": ["ana"]})) == [a.id]

    # -- workflow ------------------------------------------------------------

    def test_claim_assigns_the_post_and_bumps_the_version(self, backend):
        (d,) = add(backend, doc())
        workflow = backend.claim(d.id, "ana", expected_version=0)
        assert (workflow.status, workflow.assignee, workflow.version) == ("claimed", "ana", 1)
        assert backend.get(d.id).workflow == workflow

    def test_a_stale_claim_is_refused_and_the_first_claim_stands(self, backend):
        (d,) = add(backend, doc())
        backend.claim(d.id, "ana", expected_version=0)
        with pytest.raises(ConflictError, match="ana"):
            backend.claim(d.id, "luis", expected_version=0)
        assert backend.get(d.id).workflow.assignee == "ana"

    def test_claiming_a_post_someone_else_holds_is_refused(self, backend):
        (d,) = add(backend, doc())
        backend.claim(d.id, "ana", expected_version=0)
        with pytest.raises(ConflictError, match="already claimed by ana"):
            backend.claim(d.id, "luis", expected_version=1)

    def test_simultaneous_claims_have_exactly_one_winner(self, backend):
        (d,) = add(backend, doc())
        outcomes = []

        def claim(person):
            try:
                backend.claim(d.id, person, expected_version=0)
                outcomes.append(person)
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=claim, args=(p,)) for p in ("ana", "luis", "marta", "pau")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [o for o in outcomes if o != "conflict"]
        assert len(winners) == 1
        assert backend.get(d.id).workflow.assignee == winners[0]

    def test_a_status_the_workflow_does_not_allow_is_refused(self, backend):
        (d,) = add(backend, doc())
        with pytest.raises(TransitionError, match="can move to"):
            backend.update_workflow(d.id, 0, WorkflowChange(actor="ana", status="resolved"))
        assert backend.get(d.id).workflow.status == "new"

    def test_notes_draft_and_follow_up_are_kept(self, backend):
        (d,) = add(backend, doc())
        follow_up = T0 + timedelta(days=2)
        backend.update_workflow(d.id, 0, WorkflowChange(actor="ana", note="primera nota"))
        backend.update_workflow(d.id, 1, WorkflowChange(actor="luis", note="segunda", reply_draft="Hola, ¿nos escribes por DM?", follow_up_at=follow_up))
        workflow = backend.get(d.id).workflow
        assert [(n.author, n.text) for n in workflow.notes] == [("ana", "primera nota"), ("luis", "segunda")]
        assert workflow.reply_draft == "Hola, ¿nos escribes por DM?"
        assert workflow.follow_up_at == follow_up

    def test_workflow_change_of_unknown_post_is_not_found(self, backend):
        with pytest.raises(NotFoundError):
            backend.claim("test:nope", "ana", 0)

    def test_status_filter_sees_workflow_changes(self, backend):
        a, _ = add(backend, doc("a"), doc("b"))
        backend.update_workflow(a.id, 0, WorkflowChange(actor="ana", status="answered"))
        backend.refresh()
        result = backend.search(SearchQuery(filters={"status": ["answered"]}, facets=("status",)))
        assert ids(result.hits) == [a.id]
        assert dict(result.facets["status"]) == {"answered": 1}

    # -- feedback ------------------------------------------------------------

    def test_feedback_reads_back_with_the_post(self, backend):
        (d,) = add(backend, doc())
        given = feedback(mentions=("Cinesa", "Yelmo Cines"), complaint=True, customer_status="customer", language="ca")
        assert backend.add_feedback(d.id, given) is True
        assert backend.get(d.id).feedback == (given,)
        assert backend.get(d.id).feedback[0].labels["mentions"] == ("Cinesa", "Yelmo Cines")

    def test_feedback_on_an_unknown_post_is_not_found(self, backend):
        with pytest.raises(NotFoundError, match="test:nope"):
            backend.add_feedback("test:nope", feedback())

    def test_feedback_accumulates_oldest_first(self, backend):
        (d,) = add(backend, doc())
        first, second = feedback("ana", 0, complaint=True), feedback("luis", 5, complaint=False, surface=False)
        backend.add_feedback(d.id, first)
        backend.add_feedback(d.id, second)
        assert backend.get(d.id).feedback == (first, second)

    def test_the_same_feedback_twice_is_kept_once(self, backend):
        (d,) = add(backend, doc())
        assert backend.add_feedback(d.id, feedback(praise=True)) is True
        assert backend.add_feedback(d.id, feedback(praise=True)) is False
        assert len(backend.get(d.id).feedback) == 1

    def test_recrawl_keeps_the_feedback(self, backend):
        (d,) = add(backend, doc("primera versión"))
        backend.add_feedback(d.id, feedback(question=False))
        add(backend, replace(d, post=replace(d.post, text="segunda versión")))
        got = backend.get(d.id)
        assert got.post.text == "segunda versión"
        assert [f.labels for f in got.feedback] == [{"question": False}]

    def test_feedback_and_workflow_changes_keep_each_other(self, backend):
        (d,) = add(backend, doc())
        backend.claim(d.id, "ana", expected_version=0)
        backend.add_feedback(d.id, feedback(surface=False))
        backend.update_workflow(d.id, 1, WorkflowChange(actor="ana", note="no es para nosotros"))
        got = backend.get(d.id)
        assert (got.workflow.status, got.workflow.version, len(got.workflow.notes)) == ("claimed", 2, 1)
        assert [f.labels for f in got.feedback] == [{"surface": False}]

    def test_search_and_scan_return_the_feedback(self, backend):
        a, b = add(backend, doc("palomitas frías"), doc("butacas rotas"))
        backend.add_feedback(a.id, feedback(complaint=True))
        backend.refresh()
        found = {h.id: h.feedback for h in backend.search(SearchQuery(limit=10)).hits}
        assert [f.labels for f in found[a.id]] == [{"complaint": True}] and found[b.id] == ()
        assert [h.feedback for h in backend.scan(SearchQuery(text="palomitas"))] == [found[a.id]]

    def test_iter_feedback_yields_only_the_posts_with_feedback(self, backend):
        a, _, c = add(backend, doc("a"), doc("b"), doc("c"))
        backend.add_feedback(a.id, feedback(sector=True))
        backend.add_feedback(c.id, feedback(sector=False))
        backend.add_feedback(c.id, feedback("luis", 1, sector=True))
        backend.refresh()
        found = {h.id: h for h in backend.iter_feedback()}
        assert sorted(found) == sorted([a.id, c.id])
        assert [f.by for f in found[c.id].feedback] == ["ana", "luis"]
        assert found[a.id].analysis == a.analysis

    def test_simultaneous_feedback_is_all_kept(self, backend):
        (d,) = add(backend, doc())
        people = ("ana", "luis", "marta", "pau")
        threads = [threading.Thread(target=backend.add_feedback, args=(d.id, feedback(p, surface=True))) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(f.by for f in backend.get(d.id).feedback) == sorted(people)

    # -- erasure -------------------------------------------------------------

    def test_delete_by_author_erases_only_that_authors_posts(self, backend):
        a, b, c = add(
            backend,
            doc("uno", post_fields={"author": "pepe"}),
            doc("dos", post_fields={"author": "pepe"}),
            doc("tres", post_fields={"author": "maria"}),
        )
        assert backend.delete_by_author("pepe") == 2
        backend.refresh()
        assert backend.get(a.id) is None and backend.get(b.id) is None
        assert ids(backend.search(SearchQuery(facets=("entity",))).hits) == [c.id]
        assert backend.search(SearchQuery(text="uno")).total == 0

    def test_delete_by_author_erases_the_feedback_on_their_posts(self, backend):
        a, b = add(backend, doc("uno", post_fields={"author": "pepe"}), doc("dos", post_fields={"author": "maria"}))
        backend.add_feedback(a.id, feedback(praise=True))
        backend.add_feedback(b.id, feedback(praise=False))
        backend.delete_by_author("pepe")
        backend.refresh()
        assert ids(backend.iter_feedback()) == [b.id]

    def test_posts_deleted_at_their_source_leave_search_and_the_inbox(self, backend):
        a, b, c = add(backend, doc("uno", surface=True), doc("dos", surface=True), doc("tres", surface=True))
        backend.add_feedback(a.id, feedback(praise=True))
        assert backend.delete([a.id, b.id, "nowhere:1"]) == 2
        backend.refresh()
        assert (backend.get(a.id), ids(backend.inbox()), backend.search(SearchQuery(text="uno")).total) == (None, [c.id], 0)
        assert ids(backend.iter_feedback()) == []

    # -- analytics -------------------------------------------------------------

    def test_priority_sort_puts_the_best_score_first_and_then_the_oldest(self, backend):
        a, b, c = add(backend, doc("a", lead_score=40, minutes=1), doc("b", lead_score=90, minutes=9), doc("c", lead_score=40, minutes=5))
        assert ids(backend.search(SearchQuery(sort="priority")).hits) == [b.id, a.id, c.id]

    def test_scan_yields_every_matching_post_beyond_one_page(self, backend):
        docs = add(backend, *[doc(f"post {i}", language="ca" if i % 2 else "es") for i in range(1203)])
        found = list(backend.scan(SearchQuery(filters={"language": ["ca"]}, limit=5)))
        assert sorted(ids(found)) == sorted(d.id for d in docs if d.analysis.language == "ca")
        assert found[0].analysis.language == "ca"

    def test_scan_follows_the_text_query(self, backend):
        a, _ = add(backend, doc("palomitas frías"), doc("butacas rotas"))
        assert ids(backend.scan(SearchQuery(text="palomitas"))) == [a.id]

    def test_histogram_counts_posts_per_day(self, backend):
        add(backend, doc("a", minutes=0), doc("b", minutes=60), doc("c", minutes=24 * 60 + 5))
        day = T0.replace(hour=0)
        assert backend.histogram(SearchQuery(), "day") == [(day, None, 2), (day + timedelta(days=1), None, 1)]

    def test_histogram_splits_by_every_value_of_a_multi_valued_field(self, backend):
        add(
            backend,
            doc("a", entities=("Cinesa", "Yelmo Cines")),
            doc("b", entities=("Yelmo Cines",), role="competitor", minutes=70),
            doc("c", entities=("Cinesa",), surface=False),
        )
        hour = T0
        rows = backend.histogram(SearchQuery(surface=True), "hour", by="entity")
        assert rows == [(hour, "Cinesa", 1), (hour, "Yelmo Cines", 1), (hour + timedelta(hours=1), "Yelmo Cines", 1)]

    def test_histogram_by_a_single_valued_field(self, backend):
        add(backend, doc("a", language="es"), doc("b", language="ca"), doc("c", language="es"))
        assert backend.histogram(SearchQuery(), "month", by="language") == [
            (T0.replace(day=1, hour=0), "ca", 1),
            (T0.replace(day=1, hour=0), "es", 2),
        ]

    def test_histogram_weeks_start_on_monday(self, backend):
        add(backend, doc("friday"), doc("sunday", minutes=2 * 24 * 60), doc("monday", minutes=3 * 24 * 60))
        monday = T0.replace(hour=0) - timedelta(days=T0.weekday())
        assert backend.histogram(SearchQuery(), "week") == [(monday, None, 2), (monday + timedelta(days=7), None, 1)]

    def test_histogram_rejects_an_unknown_interval_or_field(self, backend):
        with pytest.raises(QueryError, match="unknown interval 'fortnight'"):
            backend.histogram(SearchQuery(), "fortnight")
        with pytest.raises(QueryError, match="unknown field 'colour'"):
            backend.histogram(SearchQuery(), "day", by="colour")
