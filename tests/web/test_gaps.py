"""The pieces of the competitor page that are pure functions."""

from datetime import timedelta

from listener.web.charts import bar_chart, colors, flow_chart, share_chart
from listener.web.clusters import complaint_clusters
from listener.web.gaps import Flow, churn_direction, churn_flows, pick_interval
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
