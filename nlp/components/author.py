"""Who posted it: one of the companies itself, or a spammer?"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import phrases, reading, register
from nlp.lexicons import Lexicon
from nlp.text import fold

URL = re.compile(r"https?://|www\.")


class AuthorCheck:
    """Sets ``listener_own`` (the company whose account posted it) and ``listener_spam``."""

    def __init__(self, lang: str, handles: list[list[str]], max_hashtags: int = 6, max_links: int = 2):
        self.lexicon = Lexicon.load(lang)
        self.handles = {fold(handle.lstrip("@")): entity for handle, entity in handles}
        self.max_hashtags = max_hashtags
        self.max_links = max_links

    def __call__(self, doc: Doc) -> Doc:
        current, text, folded = reading(doc)
        author = fold((getattr(current.post, "author", None) or "").lstrip("@"))
        current.own = self.handles.get(author)
        current.spam = self.is_spam(text, phrases(current, self.lexicon, folded))
        return doc

    def is_spam(self, text: str, found: dict) -> bool:
        if "spam" in found:
            return True
        if text.count("#") > self.max_hashtags:
            return True
        return ("http" in text or "www." in text) and len(URL.findall(text)) > self.max_links


# handles: [handle without "@", entity name] pairs ("@" keys are registry references to spaCy's config).
@Language.factory("listener_author", default_config={"handles": [], "max_hashtags": 6, "max_links": 2})
def make_author_check(nlp: Language, name: str, handles: list[list[str]], max_hashtags: int, max_links: int) -> AuthorCheck:
    register()
    return AuthorCheck(nlp.lang, handles, max_hashtags, max_links)
