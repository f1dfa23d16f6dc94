"""The naive baseline every figure is compared with: substring names and a "?".

- mentions: a configured name, alias, handle or hashtag found as a substring (any case);
- sector: a sector keyword found as a substring, or a mention;
- question: the text has "?"; no other intent is found;
- prospect: a question that does not name the brand; surface: a question or a mention of the brand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from listener.config import Config
from listener.records import Analysis, Mention, Post


class NaiveAnalyzer:
    reading = "baseline"

    def __init__(self, config: Config, *_):
        self.config = config
        self.names = [(entity.name, role, [n.lower().lstrip("@#") for n in (entity.name, *entity.aliases, *entity.handles, *entity.hashtags)])
                      for entity, role in config.entities]
        self.keywords = [k.lower() for k in config.sector.keywords]

    def with_config(self, config: Config) -> NaiveAnalyzer:
        return type(self)(config)

    def analyze_many(self, posts: Iterable[Post], batch_size: int = 256) -> Iterator[Analysis]:
        for post in posts:
            yield self.analyze(post)

    def analyze(self, post: Post) -> Analysis:
        text = post.text or ""
        lowered = text.lower()
        mentions = []
        for name, role, forms in self.names:
            position = next((lowered.find(f) for f in forms if f and f in lowered), -1)
            if position >= 0:
                mentions.append(Mention(entity=name, role=role, text=name, start=position, end=position + 1, how="name", score=100))
        sector = bool(mentions) or any(k in lowered for k in self.keywords)
        question = sector and "?" in text
        brand = any(m.role == "brand" for m in mentions)
        return Analysis(language="es", mentions=tuple(mentions), sector=sector,
                        intents=("question",) if question else (),
                        customer_status="prospect" if question and not brand else "unknown",
                        surface=question or brand)
