import io
import json
from datetime import timedelta

import pytest

from listener.feedback import LabelError, PostFeedback, check_labels, effective_labels, predicted_labels, read_feedback
from listener.jsonl import Rejection
from listener.records import Feedback
from tests.factories import T0, analysis

ENTITIES = ("Cinesa", "Yelmo Cines")
GOOD = {"id": "twitter:123", "labels": {"complaint": True}, "by": "ana"}


def read(*lines: bytes, now=T0):
    return [item for _, item in read_feedback(io.BytesIO(b"\n".join(lines)), "feedback.jsonl", ENTITIES, now=now)]


def line(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def rejected(**changes) -> str:
    (item,) = read(line(**changes))
    assert isinstance(item, Rejection), item
    return str(item)


def test_a_good_line_is_feedback_on_that_post_at_reading_time():
    (item,) = read(line(labels={"mentions": ["Cinesa"], "complaint": True, "customer_status": "customer", "language": "es"}))
    assert isinstance(item, PostFeedback) and item.post_id == "twitter:123"
    assert item.feedback == Feedback({"mentions": ("Cinesa",), "complaint": True, "customer_status": "customer", "language": "es"},
                                     by="ana", at=T0)


def test_the_time_given_is_kept_in_utc():
    (item,) = read(line(at="2026-11-20T12:30:00+01:00"))
    assert item.feedback.at == T0 + timedelta(hours=2, minutes=30)


def test_an_unknown_label_is_named_with_file_and_line():
    assert rejected(labels={"colour": True}).startswith("feedback.jsonl, line 1: field 'labels.colour': unknown label (valid: mentions,")


@pytest.mark.parametrize(("labels", "expected"), [
    ({"complaint": "yes"}, "field 'labels.complaint': expected true or false, found 'yes'"),
    ({"surface": 1}, "field 'labels.surface': expected true or false, found 1"),
    ({"customer_status": "client"}, "field 'labels.customer_status': expected one of customer, prospect, unknown, found 'client'"),
    ({"language": "fr"}, "field 'labels.language': expected one of es, ca, en, pt, other, found 'fr'"),
    ({"mentions": "Cinesa"}, "field 'labels.mentions': expected a list of entity names, found 'Cinesa'"),
    ({"mentions": ["Cinsea"]}, "field 'labels.mentions': 'Cinsea' is not a configured entity (entities: Cinesa, Yelmo Cines)"),
    ({}, "field 'labels': no labels given"),
])
def test_a_wrong_type_or_value_is_named(labels, expected):
    assert expected in rejected(labels=labels)


@pytest.mark.parametrize("field", ["id", "by", "labels"])
def test_a_missing_field_is_named(field):
    data = dict(GOOD)
    del data[field]
    (item,) = read(json.dumps(data).encode())
    assert f"missing field {field!r}" in item.reason


def test_blank_id_or_author_and_labels_that_are_not_an_object_are_refused():
    assert "field 'by': must not be empty" in rejected(by="  ")
    assert "field 'id': must not be empty" in rejected(id="")
    assert "field 'labels'" in rejected(labels=["complaint"])
    assert "field 'at'" in rejected(at="last tuesday")


def test_malformed_json_is_rejected_and_the_lines_around_it_kept():
    items = read(line(id="twitter:1"), b'{"id": "twitter:2", "labels": ', line(id="twitter:3"))
    assert [type(i).__name__ for i in items] == ["PostFeedback", "Rejection", "PostFeedback"]
    assert str(items[1]).startswith("feedback.jsonl, line 2: malformed JSON")


def test_without_configured_entities_any_mention_is_taken():
    (item,) = read_feedback(io.BytesIO(line(labels={"mentions": ["Anyone"]})), "f", now=T0)
    assert item[1].feedback.labels["mentions"] == ("Anyone",)


def test_check_labels_refuses_what_the_jsonl_reader_refuses():
    with pytest.raises(LabelError, match="labels.churn") as error:
        check_labels({"churn": "no"})
    assert error.value.field == "labels.churn"


def test_the_latest_feedback_decides_each_label_and_silence_changes_nothing():
    early = Feedback({"complaint": True, "surface": True}, by="ana", at=T0)
    late = Feedback({"complaint": False}, by="luis", at=T0 + timedelta(minutes=5))
    assert effective_labels([late, early]) == {"complaint": False, "surface": True}


def test_at_the_same_time_the_feedback_stored_last_wins():
    first, second = Feedback({"praise": True}, by="ana", at=T0), Feedback({"praise": False}, by="luis", at=T0)
    assert effective_labels([first, second]) == {"praise": False}


def test_predicted_labels_say_what_the_analysis_says_in_the_labels_terms():
    labels = predicted_labels(analysis(entities=("Cinesa", "Yelmo Cines"), intents=("question", "recommendation_request")))
    assert labels == {
        "mentions": ("Cinesa", "Yelmo Cines"), "sector": True, "question": True, "recommendation_request": True, "complaint": False,
        "churn": False, "praise": False, "customer_status": "prospect", "surface": True, "language": "es",
    }
