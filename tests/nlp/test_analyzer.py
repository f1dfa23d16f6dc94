from listener.config import Config, EntityConfig
from nlp import Analyzer
from tests.factories import post

CONFIG = Config(brand=EntityConfig(name="Cinesa", handles=["@cinesa"]),
                competitors=[EntityConfig(name="Yelmo Cines", aliases=["Yelmo"])])


def test_brand_name_is_a_mention():
    analysis = Analyzer(CONFIG).analyze(post("Ayer fui a Cinesa"))
    assert [(m.entity, m.role) for m in analysis.mentions] == [("Cinesa", "brand")]


def test_analyze_many_keeps_input_order():
    posts = [post("Yelmo mola"), post("Cinesa mola")]
    analyses = list(Analyzer(CONFIG).analyze_many(posts))
    assert [a.mentions[0].entity for a in analyses] == ["Yelmo Cines", "Cinesa"]
