"""Reply drafts that follow the post's reading, and where to send them.

The analysis says what a post asks (its intents), whose customer the author is
(``customer_status``, of the brand) and which companies it names (mentions with
roles). From those a post gets one *reading*, and each reading has a template
per language:

- ``our_complaint``: the brand's customer complains: apologise, move to a private channel;
- ``our_churn``: the brand's customer is leaving: apologise, ask why, in private;
- ``welcome``: someone switching to the brand (a competitor named before the brand in a
  churn post by a customer of the brand): welcome them;
- ``rival_unhappy``: a competitor's customer (or the sector's) complains or leaves: no
  apology on anyone's behalf, an offer;
- ``recommendation``: someone who is not yet a customer asks which to choose: answer it;
- ``question``: answer it, or ask for what is needed to answer it; a question that
  holds words of one of the team's ``web.answers`` gets that answer (reading ``answer``);
- ``praise``: thanks;
- ``default``: the greeting alone.

Templates come from ``data/replies.yaml`` (sector-neutral), then the sector's set
named by ``web.reply_templates`` (one of :data:`SECTORS`, shipped as
``data/replies-<sector>.yaml``, or a file of the team's own), then ``web.replies``. Each may use ``{greeting}`` (the analysis's safe greeting, never
the raw display name) and ``{brand}``; any other placeholder is refused when the
templates are loaded, naming the file, template and placeholder.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import yaml

from listener.config import line_of
from listener.errors import ConfigError
from listener.records import IndexedPost
from listener.web.views import native_id, safe_url

PLACEHOLDER = re.compile(r"\{(\w*)\}")
REPLY_PLACEHOLDERS = ("greeting", "brand")
REPLY_LANGUAGES = ("es", "ca", "en", "pt", "other")
SECTORS = ("bank", "telecom", "airline", "cinema")
READINGS = ("our_complaint", "our_churn", "welcome", "rival_unhappy", "recommendation", "question", "praise", "default")
# The intents that decide a reading, most pressing first, for the API and the page.
READING_INTENTS = {"our_complaint": ("complaint",), "our_churn": ("churn",), "welcome": ("churn",), "rival_unhappy": ("churn", "complaint"),
                   "recommendation": ("recommendation_request",), "question": ("question", "recommendation_request"),
                   "praise": ("praise",), "default": ()}
GREETINGS = {"es": "Hola", "ca": "Hola", "en": "Hi", "pt": "Olá", "other": "Hi"}
UNHAPPY = ("complaint", "churn")
ASKING = ("question", "recommendation_request")

Templates = dict[str, dict[str, str]]


class TemplateError(ConfigError):
    """A reply template set that cannot be used; the message names the file, template and problem."""


def read_post(hit: IndexedPost) -> str:
    """The reading of a post (one of :data:`READINGS`) from its analysis."""
    analysis = hit.analysis
    intents, status = set(analysis.intents), analysis.customer_status
    roles = [m.role for m in sorted(analysis.mentions, key=lambda m: m.start)]
    if intents & set(UNHAPPY):
        ours = status == "customer" or ("brand" in roles and "competitor" not in roles and status != "prospect")
        if not ours:
            return "rival_unhappy"
        if "churn" in intents:
            # "Me paso de Yelmo a Cinesa", "leaving BBVA for Sabadell": the company named first is the one left.
            return "welcome" if roles and roles[0] == "competitor" and "brand" in roles else "our_churn"
        return "our_complaint"
    if "recommendation_request" in intents and status != "customer":
        return "recommendation"
    if intents & set(ASKING):
        return "question"
    if "praise" in intents:
        return "praise"
    return "default"


def check_templates(data: object, origin: str, root: yaml.Node | None = None, prefix: tuple[str, ...] = ()) -> Templates:
    """``data`` as templates by reading and language, or :class:`TemplateError` naming ``origin``, the template and the problem."""

    def where(*loc: str) -> str:
        line = line_of(root, list(loc), root_line=False) if root is not None else None
        return f"{origin}, line {line}" if line else origin

    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TemplateError(f"{where()}: expected templates by reading ({', '.join(READINGS)}), found {type(data).__name__}")
    for reading, languages in data.items():
        name = ".".join((*prefix, str(reading)))
        if reading not in READINGS:
            raise TemplateError(f"{where(reading)}: unknown reading {name!r} (valid: {', '.join(READINGS)})")
        if not isinstance(languages, dict):
            raise TemplateError(f"{where(reading)}: {name}: expected a template per language ({', '.join(REPLY_LANGUAGES)})")
        for language, text in languages.items():
            template = f"{name}/{language}"
            if language not in REPLY_LANGUAGES:
                raise TemplateError(f"{where(reading, language)}: template {template}: unknown language {language!r} "
                                    f"(valid: {', '.join(REPLY_LANGUAGES)})")
            if not isinstance(text, str):
                raise TemplateError(f"{where(reading, language)}: template {template}: expected text, found {text!r}")
            for placeholder in PLACEHOLDER.findall(text):
                if placeholder not in REPLY_PLACEHOLDERS:
                    raise TemplateError(f"{where(reading, language)}: template {template} uses an unknown placeholder "
                                        f"{{{placeholder}}} (placeholders: {', '.join('{' + p + '}' for p in REPLY_PLACEHOLDERS)})")
    return {str(reading): {str(lang): text for lang, text in languages.items()} for reading, languages in data.items()}


def _check_text(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise TemplateError(f"{where}: expected text, found {text!r}")
    for placeholder in PLACEHOLDER.findall(text):
        if placeholder not in REPLY_PLACEHOLDERS:
            raise TemplateError(f"{where} uses an unknown placeholder {{{placeholder}}} "
                                f"(placeholders: {', '.join('{' + p + '}' for p in REPLY_PLACEHOLDERS)})")
    return text


def check_answers(data: object, key: str = "web.answers") -> list[dict]:
    """The team's answers to frequent questions: ``[{when: [words], es: text, ...}]``, or :class:`TemplateError`."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise TemplateError(f"{key}: expected a list of answers, each with `when` (words) and a text per language")
    answers = []
    for number, entry in enumerate(data):
        where = f"{key}[{number}]"
        if not isinstance(entry, dict):
            raise TemplateError(f"{where}: expected `when` (words) and a text per language, found {entry!r}")
        words = entry.get("when")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise TemplateError(f"{where}.when: expected a list of words or phrases that a question holds, found {words!r}")
        texts = {language: text for language, text in entry.items() if language != "when"}
        if not texts:
            raise TemplateError(f"{where}: no answer text (give one per language: {', '.join(REPLY_LANGUAGES)})")
        for language, text in texts.items():
            if language not in REPLY_LANGUAGES:
                raise TemplateError(f"{where}: unknown key {language!r} (valid: when, {', '.join(REPLY_LANGUAGES)})")
            _check_text(text, f"{where}.{language}")
        answers.append({"when": [str(w) for w in words], **texts})
    return answers


def folded(text: str) -> str:
    """Lower case without accents, for matching a question's words."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def parse_templates(text: str, origin: str) -> Templates:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TemplateError(f"{origin}{f', line {mark.line + 1}' if mark else ''}: not valid YAML "
                            f"({getattr(exc, 'problem', None) or exc})") from None
    return check_templates(data, origin, root)


def load_templates(path: str | Path, named_by: str = "the configuration") -> Templates:
    """A template set from a file (``named_by`` is the configuration that names it, for messages)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"{named_by}: web.reply_templates: cannot read {path} ({exc.strerror or exc}); "
                            f"give a file or one of the built-in sets: {', '.join(SECTORS)}") from None
    return parse_templates(text, str(path))


@lru_cache(maxsize=None)
def builtin_templates(sector: str | None = None) -> Templates:
    """The sector-neutral templates, or a sector's built-in set (one of :data:`SECTORS`)."""
    name = f"replies-{sector}.yaml" if sector else "replies.yaml"
    text = resources.files("listener.web").joinpath("data", name).read_text(encoding="utf-8")
    return parse_templates(text, f"listener/web/data/{name}")


def sector_templates(reference: str, named_by: str = "the configuration") -> Templates:
    """``web.reply_templates``: a built-in set's name, or a file (already resolved against the configuration's folder)."""
    return builtin_templates(reference) if reference in SECTORS else load_templates(reference, named_by)


def merged(*sets: Templates) -> Templates:
    """Later sets win, template by template."""
    out: Templates = {}
    for templates in sets:
        for reading, languages in templates.items():
            out.setdefault(reading, {}).update(languages)
    return out


@dataclass(frozen=True, slots=True)
class Reading:
    key: str  # one of READINGS
    language: str
    template: str
    intent: str  # the intent that decided it, or "default"


class ReplyDrafter:
    def __init__(self, settings, brand: str):
        sector = sector_templates(settings.reply_templates) if settings.reply_templates else {}
        self.brand = brand
        self.templates = merged(builtin_templates(), sector, settings.replies)
        self.answers = [(re.compile("|".join(rf"(?<!\w){re.escape(folded(w.strip()))}" for w in entry["when"])), entry)
                        for entry in check_answers(settings.answers)]
        self.links = settings.reply_links

    def answer_for(self, hit: IndexedPost) -> tuple[str, str] | None:
        """``(language, template)`` of the team's first answer whose words the post holds, in the post's language."""
        text = folded(" ".join(filter(None, (hit.post.title, hit.post.text))))
        for words, entry in self.answers:
            for lang in (hit.analysis.language, "other"):
                if lang in entry and words.search(text):
                    return lang, entry[lang]
        return None

    def reading(self, hit: IndexedPost) -> Reading:
        key = read_post(hit)
        language = hit.analysis.language
        intent = next((i for i in READING_INTENTS[key] if i in hit.analysis.intents), "default")
        answer = self.answer_for(hit) if key == "question" else None
        if answer is not None:
            return Reading("answer", answer[0], answer[1], intent)
        for option in (key, "default"):
            languages = self.templates.get(option) or {}
            for lang in (language, "other", "en"):
                if lang in languages:
                    return Reading(option, lang, languages[lang], intent)
        return Reading("default", language, "{greeting}, ", intent)

    def template_for(self, hit: IndexedPost) -> tuple[str, str]:
        """``(reading, template)`` for ``hit``."""
        reading = self.reading(hit)
        return reading.key, reading.template

    def draft(self, hit: IndexedPost) -> str:
        """The suggested reply: the safe greeting from the analysis, never the display name."""
        greeting = hit.analysis.greeting or GREETINGS.get(hit.analysis.language, "Hi")
        values = {"greeting": greeting, "brand": self.brand}
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.reading(hit).template)

    def reply_url(self, hit: IndexedPost) -> str:
        post = hit.post
        template = self.links.get(post.source) or DEFAULT_LINKS.get(post.source) or "{url}"
        values = {"url": post.url, "native_id": quote(native_id(post.id), safe=""), "author": quote(post.author or "", safe="")}
        return safe_url(PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template))


DEFAULT_LINKS = {
    "twitter": "https://x.com/intent/post?in_reply_to={native_id}",
    "x": "https://x.com/intent/post?in_reply_to={native_id}",
}
