"""The pieces of the competitor page that are pure functions."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from listener.web.charts import bar_chart, colors, flow_chart, share_chart
from listener.web.clusters import complaint_clusters
from listener.records import Mention
from listener.web.gaps import EntityGap, Flow, bucket_start, churn_direction, churn_flows, complaint_targets, filled_series, pick_interval
from tests.web.corpus import ROLES, item
from tests.factories import T0


def direction(text):
    return churn_direction(item(1, text, 0, intents=("churn",)))


def test_churn_direction_from_the_words_before_each_name():
    assert direction("Me paso de Yelmo a Cinesa") == (["Yelmo Cines"], ["Cinesa"])
    assert direction("Adiós Cinesa, me voy a Kinépolis") == (["Cinesa"], ["Kinépolis"])
    assert direction("Switching from Cinesa to Yelmo for good") == (["Cinesa"], ["Yelmo Cines"])
    assert direction("Canvio Cinesa per Yelmo") == (["Cinesa"], ["Yelmo Cines"])
    assert direction("Cinesa o Yelmo, ya no sé") == ([], [])


def test_churn_flows_need_the_brand_and_keep_unclear_pairs_apart():
    hits = [
        item(1, "Me paso de Yelmo a Cinesa", 0, intents=("churn",)),
        item(2, "De Yelmo a Cinesa, sin dudarlo", 0, intents=("churn",)),
        item(3, "Cinesa o Yelmo, ya no sé", 0, intents=("churn",)),
        item(4, "Me voy de Yelmo a Kinépolis", 0, intents=("churn",)),
    ]
    flows, unclear = churn_flows(hits, ROLES)
    assert [(f.source, f.target, f.count) for f in flows] == [("Yelmo Cines", "Cinesa", 2)]
    assert [(f.source, f.target) for f in unclear] == [("Cinesa", "Yelmo Cines")]


def test_complaint_clusters_group_by_the_most_shared_word():
    hits = [
        item(1, "La app no deja pagar", 0, intents=("complaint",), score=10),
        item(2, "Otra vez la app caída, no puedo pagar", 0, intents=("complaint",), score=90),
        item(3, "La app se cierra sola", 0, intents=("complaint",)),
        item(4, "Palomitas frías y caras", 0, intents=("complaint",)),
        item(5, "Las palomitas carísimas", 0, intents=("complaint",)),
        item(6, "Sala sucia", 0, intents=("complaint",)),
    ]
    clusters = complaint_clusters(hits)
    assert [(c.label, c.count) for c in clusters] == [("app · pagar", 3), ("palomitas", 2), ("other complaints", 1)]
    assert clusters[0].examples[0].id == "twitter:2"  # best lead score first
    assert [(c.label, c.count) for c in complaint_clusters(hits[-1:])] == [("no common theme yet", 1)]


def test_the_interval_follows_the_span():
    assert pick_interval(timedelta(hours=5)) == "hour"
    assert pick_interval(timedelta(days=30)) == "day"
    assert pick_interval(timedelta(days=200)) == "week"
    assert pick_interval(timedelta(days=1000)) == "month"


def test_charts_are_svg_with_a_title_on_every_mark_and_escaped_names():
    names = ["Cinesa", "<b>Yelmo</b>"]
    palette = colors(names)
    svg = share_chart([(T0, {"Cinesa": 3, "<b>Yelmo</b>": 1})], names, palette, "day")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Cinesa, 20 Nov: 3 of 4 (75%)</title>" in svg
    assert "<b>" not in svg and "&lt;b&gt;Yelmo&lt;/b&gt;" in svg
    bars = bar_chart("Complaint rate", [("Cinesa", 50.0, "50%"), ("<b>Yelmo</b>", None, "")], palette)
    assert "no data" in bars and "<title>Cinesa: 50%</title>" in bars
    assert "No posts in this window" in share_chart([], names, palette, "day")
    assert "Cinesa → &lt;b&gt;Yelmo&lt;/b&gt;: 2 posts" in flow_chart([Flow("Cinesa", "<b>Yelmo</b>", 2)], palette)


def complaint(text, language="es"):
    """A complaint whose every naming of a company is a mention, as the analyzer finds them."""
    hit = item(1, text, 0, intents=("complaint",), language=language)
    found = [Mention(entity, ROLES[entity], alias, i, i + len(alias), "name")
             for entity, alias in (("Cinesa", "Cinesa"), ("Yelmo Cines", "Yelmo"), ("Kinépolis", "Kinépolis"))
             for i in range(len(text)) if text.startswith(alias, i)]
    return replace(hit, analysis=replace(hit.analysis, mentions=tuple(sorted(found, key=lambda m: m.start))))


def test_a_complaint_naming_several_companies_is_about_the_one_complained_of():
    assert complaint_targets(complaint("Me cambio de Yelmo a Kinépolis, Yelmo no funciona")) == (("Yelmo Cines",), True)
    assert complaint_targets(complaint("Me cambio a Kinépolis, Yelmo no funciona")) == (("Yelmo Cines",), True)
    assert complaint_targets(complaint("Yelmo es un desastre, Kinépolis mucho mejor")) == (("Yelmo Cines",), True)
    # No complaint phrase in the clause naming it: the company left, not the one gone to.
    assert complaint_targets(complaint("Me cambio de Yelmo a Kinépolis, no funciona nada")) == (("Yelmo Cines",), True)
    assert complaint_targets(complaint("Adiós Cinesa, me voy a Kinépolis para siempre")) == (("Cinesa",), True)
    assert complaint_targets(complaint("La sala de Kinépolis sucia")) == (("Kinépolis",), True)
    # A negated phrase is no complaint: what the text says does not tell.
    assert complaint_targets(complaint("Cinesa o Yelmo, a mí me da igual")) == (("Cinesa", "Yelmo Cines"), False)


def test_rates_and_medians_under_the_minimum_n_are_left_out():
    few = EntityGap("Yelmo Cines", "competitor", posts=3, complaints=3, known_answer=3, unanswered=1, min_n=10)
    assert few.complaint_rate is None and few.unanswered_rate is None
    enough = EntityGap("Yelmo Cines", "competitor", posts=12, complaints=3, known_answer=10, unanswered=5, min_n=10)
    assert enough.complaint_rate == 0.25 and enough.unanswered_rate == 0.5


def test_the_series_has_every_bucket_empty_ones_at_zero():
    utc = timezone.utc
    counts = {datetime(2026, 11, 2, tzinfo=utc): {"Cinesa": 2}, datetime(2026, 11, 5, tzinfo=utc): {"Cinesa": 1, "Yelmo Cines": 4}}
    series = filled_series(counts, ["Cinesa", "Yelmo Cines"], datetime(2026, 11, 1, 22, tzinfo=utc), datetime(2026, 11, 5, 9, tzinfo=utc), "day")
    assert [(start.day, c["Cinesa"], c["Yelmo Cines"]) for start, c in series] == [(1, 0, 0), (2, 2, 0), (3, 0, 0), (4, 0, 0), (5, 1, 4)]
    months = filled_series({}, ["Cinesa"], datetime(2026, 11, 20, tzinfo=utc), datetime(2027, 2, 3, tzinfo=utc), "month")
    assert [s.strftime("%Y-%m-%d") for s, _ in months] == ["2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01"]
    assert bucket_start(datetime(2026, 11, 22, 23, 59, tzinfo=utc), "week") == datetime(2026, 11, 16, tzinfo=utc)  # a Monday
