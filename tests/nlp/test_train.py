"""Training rows: the hand-labelled posts and the weak labels of the posts nobody labelled."""

import csv

import pytest

from listener.config import Config
from nlp.corpus import source_file
from nlp.train import Example, WEAK_WEIGHT, train, weak_examples

COLUMNS = ["tweet_id", "airline_sentiment", "airline_sentiment_confidence", "negativereason", "negativereason_confidence",
           "airline", "airline_sentiment_gold", "name", "negativereason_gold", "retweet_count", "text", "tweet_coord",
           "tweet_created", "tweet_location", "user_timezone"]
COMPLAINTS = ["@united my bag never arrived, third time this month", "@united two hours on the tarmac and no word from anyone",
              "@united the app lost my booking again", "@united rude staff at the gate in Denver"]
OTHERS = ["@united thanks for the smooth flight to Boston", "@united what time does boarding start for UA12?",
          "@united love the new seats", "@united just landed in Chicago"]


def write_us_airline(folder, rows):
    path = folder / "us-airline-tweets" / "Tweets.csv"
    path.parent.mkdir(parents=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for tweet_id, sentiment, confidence, text in rows:
            writer.writerow({"tweet_id": tweet_id, "airline_sentiment": sentiment, "airline_sentiment_confidence": confidence,
                             "airline": "United", "name": f"user{tweet_id}", "text": text, "retweet_count": 0})


def test_weak_labels_read_negative_tweets_as_complaints_and_leave_out_labelled_and_unsure_ones(tmp_path, monkeypatch):
    write_us_airline(tmp_path, [("1", "negative", "1.0", COMPLAINTS[0]), ("2", "positive", "0.9", OTHERS[0]),
                                ("3", "negative", "0.4", COMPLAINTS[1]), ("4", "neutral", "0.7", OTHERS[1]),
                                ("5", "negative", "0.8", COMPLAINTS[2])])
    monkeypatch.setenv("LISTENER_TRAINING_DATA", str(tmp_path))
    weak = weak_examples(exclude={"us-airline:5"})
    assert [(e.id, e.labels) for e in weak] == [("us-airline:1", {"complaint": True}), ("us-airline:2", {"complaint": False}),
                                                ("us-airline:4", {"complaint": False})]
    assert {(e.weight, e.source, e.lang, e.author) for e in weak[:1]} == {(WEAK_WEIGHT, "weak", "en", "user1")}


def test_without_the_source_file_there_are_no_weak_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("LISTENER_TRAINING_DATA", str(tmp_path))
    if source_file("us-airline") is not None:
        pytest.skip("the US-airline tweets are in a shared training data folder")
    assert weak_examples(exclude=set()) == []


def test_cross_validated_scores_and_thresholds_come_from_the_labelled_posts_only(tmp_path):
    labelled = [Example(f"us-airline:l{i}", text, {"complaint": text in COMPLAINTS, "sector": True}, "config/us-airline.yaml")
                for i, text in enumerate((COMPLAINTS + OTHERS) * 3)]
    weak = [Example(f"us-airline:w{i}", text, {"complaint": text in OTHERS}, "config/us-airline.yaml", weight=WEAK_WEIGHT,
                    source="weak") for i, text in enumerate((COMPLAINTS + OTHERS) * 2)]
    result = train(labelled + weak, Config(), tmp_path)
    assert result.sources == {"labelled": 24, "weak": 16}
    assert result.cross_validated["combined"]["complaint"]["n"] == 12  # the labelled complaints, none of the weak rows
