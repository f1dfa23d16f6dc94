"""Reply drafts from a template per intent and language, and where to send them."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from urllib.parse import quote

import yaml

from listener.records import IndexedPost
from listener.web.settings import PLACEHOLDER, WebSettings
from listener.web.views import native_id, safe_url

# The most pressing intent picks the template.
INTENT_ORDER = ("churn", "complaint", "recommendation_request", "question", "praise")
GREETINGS = {"es": "Hola", "ca": "Hola", "en": "Hi", "pt": "Olá", "other": "Hi"}


@lru_cache(maxsize=1)
def builtin_templates() -> dict[str, dict[str, str]]:
    text = resources.files("listener.web").joinpath("data/replies.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class ReplyDrafter:
    def __init__(self, settings: WebSettings, brand: str):
        self.brand = brand
        self.templates = {intent: dict(languages) for intent, languages in builtin_templates().items()}
        for intent, languages in settings.replies.items():
            self.templates.setdefault(intent, {}).update(languages)
        self.links = settings.reply_links

    def template_for(self, hit: IndexedPost) -> tuple[str, str]:
        """``(intent, template)``: the first intent in INTENT_ORDER with a template, else ``default``."""
        language = hit.analysis.language
        intents = [i for i in INTENT_ORDER if i in hit.analysis.intents] + ["default"]
        for intent in intents:
            options = self.templates.get(intent, {})
            if language in options or (intent == "default" and options):
                return intent, options.get(language) or options.get("other") or options.get("en") or next(iter(options.values()))
        return "default", "{greeting}, "

    def draft(self, hit: IndexedPost) -> str:
        """The suggested reply: the safe greeting from the analysis, never the display name."""
        _, template = self.template_for(hit)
        greeting = hit.analysis.greeting or GREETINGS.get(hit.analysis.language, "Hi")
        values = {"greeting": greeting, "brand": self.brand}
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)

    def reply_url(self, hit: IndexedPost) -> str:
        post = hit.post
        template = self.links.get(post.source) or DEFAULT_LINKS.get(post.source) or "{url}"
        values = {"url": post.url, "native_id": quote(native_id(post.id), safe=""), "author": quote(post.author or "", safe="")}
        return safe_url(PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template))


DEFAULT_LINKS = {
    "twitter": "https://x.com/intent/post?in_reply_to={native_id}",
    "x": "https://x.com/intent/post?in_reply_to={native_id}",
}
