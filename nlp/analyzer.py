"""The analyzer: a post in, an analysis out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import py3langid

from listener.config import Config
from listener.records import Analysis, Mention, Post

GREETINGS = {"es": "Hola", "ca": "Hola", "en": "Hi", "pt": "Olá", "other": "Hi"}


class Analyzer:
    def __init__(self, config: Config):
        self.config = config
        self._languages = list(config.languages)
        self._identifier = py3langid.langid.LanguageIdentifier.from_modelpath(py3langid.langid.MODEL_DIR / py3langid.langid.MODEL_FILE)
        self._identifier.set_languages(["es", "ca", "en", "pt", "fr", "it", "de", "gl", "eu"])
        self._aliases = []
        for entity, role in config.entities:
            for alias in [entity.name, *entity.aliases, *entity.handles, *entity.hashtags]:
                self._aliases.append((alias.lower(), entity.name, role))

    def analyze(self, post: Post) -> Analysis:
        text = post.text or ""
        lowered = text.lower()
        mentions = []
        for alias, name, role in self._aliases:
            for match in re.finditer(re.escape(alias), lowered):
                mentions.append(Mention(name, role, text[match.start():match.end()], match.start(), match.end(), "name", 100))
        language = self._identifier.classify(text)[0] if text.strip() else "other"
        if language not in self._languages:
            language = "other"
        intents = ("question",) if "?" in text else ()
        return Analysis(
            language=language,
            mentions=tuple(mentions),
            intents=intents,
            lead_score=50 if intents and mentions else 0,
            reasons=("asks a question",) if intents else (),
            surface=bool(intents and mentions),
            greeting=GREETINGS[language],
        )

    def analyze_many(self, posts: Iterable[Post], batch_size: int = 256) -> Iterator[Analysis]:
        for post in posts:
            yield self.analyze(post)
