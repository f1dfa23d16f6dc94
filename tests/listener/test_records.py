from dataclasses import fields
from datetime import timedelta

import pytest

from listener.records import Analysis, Feedback, IndexedPost, Mention, Post, Workflow
from tests.factories import T0, analysis, post


def test_post_round_trips_through_its_dict_with_every_field():
    original = post("hola", title="t", lang="es", parent_id="p", thread_id="t1", reply_count=2,
                    replied_by=("cinesa",), first_reply_at=T0 + timedelta(minutes=5))
    data = original.to_dict()
    assert set(data) == {f.name for f in fields(Post)}
    assert Post.from_dict(data) == original


def test_analysis_round_trips_through_its_dict_with_every_field():
    original = analysis(entities=("Cinesa", "Yelmo Cines"))
    data = original.to_dict()
    assert set(data) == {f.name for f in fields(Analysis)}
    assert set(data["mentions"][0]) == {f.name for f in fields(Mention)}
    assert Analysis.from_dict(data) == original


def test_times_are_written_in_utc_with_a_z():
    assert post("x").to_dict()["created_at"] == "2026-11-20T09:00:00Z"


def test_indexed_post_dict_has_all_parts():
    item = IndexedPost(post=post("x"), analysis=analysis(), workflow=Workflow())
    assert set(item.to_dict()) == {"post", "analysis", "answer_state", "workflow", "feedback"}


def test_feedback_round_trips_through_its_dict_with_mentions_as_a_list():
    original = Feedback({"mentions": ["Cinesa"], "complaint": True, "customer_status": "customer"}, by="ana", at=T0)
    data = original.to_dict()
    assert data == {"labels": {"mentions": ["Cinesa"], "complaint": True, "customer_status": "customer"}, "by": "ana",
                    "at": "2026-11-20T09:00:00Z"}
    assert Feedback.from_dict(data) == original


def test_feedback_labels_cannot_be_changed_after_the_fact():
    given = {"complaint": True}
    feedback = Feedback(given, by="ana", at=T0)
    given["complaint"] = False
    assert feedback.labels["complaint"] is True
    with pytest.raises(TypeError):
        feedback.labels["complaint"] = False
