"""What listener's components know about a ``Doc``, and the ``listener_*`` attributes that show it.

The components share one :class:`ListenerState` per doc (plain attribute access
is cheap); each field is also a namespaced custom attribute, so
``doc._.listener_mentions`` reads and writes the same value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from spacy.tokens import Doc

from nlp.text import fold

_KEY = "listener_state"  # a string key: its hash is cached


@dataclass(slots=True)
class ListenerState:
    post: object = None               # the Post being analysed (author, display name)
    language: str = "other"           # es, ca, en, pt or other
    text: str | None = None           # the doc's text and its folded form (see nlp.text.fold)
    folded: str | None = None
    mentions: tuple = ()              # listener.records.Mention
    sector: bool = False
    sector_terms: tuple = ()          # (start, end) of each sector word found
    intents: tuple = ()
    customer_status: str = "unknown"
    customer_of: str | None = None    # the entity whose customer the author is
    spam: bool = False
    own: str | None = None            # the entity name when a company posted it itself
    lead_score: int = 0
    reasons: tuple = ()
    surface: bool = False
    greeting: str | None = None
    probabilities: dict | None = None    # the learned model's probability per label (None: not needed)
    surface_decided: bool | None = None  # the learned model's surface decision (None: the rules decide)
    model_inputs: tuple | None = None    # the text and extra features the learned model read
    phrases: dict | None = None      # folded text -> the lexicon's phrases found in it (see phrases())


def state(doc: Doc) -> ListenerState:
    """The listener state of ``doc``, created on first use."""
    current = doc.user_data.get(_KEY)
    if current is None:
        current = doc.user_data[_KEY] = ListenerState()
    return current


def phrases(current: ListenerState, lexicon, folded: str) -> dict[str, list[tuple[int, int]]]:
    """The phrases of ``lexicon`` in ``folded`` text, by section, found once per doc and text."""
    if current.phrases is None:
        current.phrases = {}
    found = current.phrases.get(folded)
    if found is None:
        found = current.phrases[folded] = lexicon.find_all(folded)
    return found


def reading(doc: Doc) -> tuple[ListenerState, str, str]:
    """The doc's state, text and folded text: what every component starts with."""
    current = state(doc)
    if current.text is None:
        attach_text(doc, doc.text)
    return current, current.text, current.folded


def attach_text(doc: Doc, text: str) -> ListenerState:
    """Remember the text a doc was made from, so that components need not rebuild it from tokens."""
    current = state(doc)
    current.text, current.folded = text, fold(text)
    return current


def _accessors(name: str):
    return (lambda doc: getattr(state(doc), name)), (lambda doc, value: setattr(state(doc), name, value))


def register() -> None:
    """Register ``doc._.listener_<field>`` for every field of the state; safe to call again."""
    for field in fields(ListenerState):
        if field.name in ("text", "folded", "phrases", "model_inputs"):
            continue
        attribute = f"listener_{field.name}"
        if not Doc.has_extension(attribute):
            getter, setter = _accessors(field.name)
            Doc.set_extension(attribute, getter=getter, setter=setter)
