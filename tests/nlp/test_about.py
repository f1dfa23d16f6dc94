"""Which company a complaint is about, read with the real lexicons and without spaCy."""

import subprocess
import sys

from listener.records import Mention
from nlp.about import complained_entity


def named(text: str, *names: str) -> tuple[Mention, ...]:
    found = [Mention(n, "competitor", n, i, i + len(n), "name") for n in names for i in range(len(text)) if text.startswith(n, i)]
    return tuple(sorted(found, key=lambda m: m.start))


def test_the_company_in_the_complaints_clause():
    text = "Me cambio de Vodafone a Movistar, Vodafone no funciona"
    assert complained_entity(text, "es", named(text, "Vodafone", "Movistar")) == ("Vodafone", True)
    text = "Vodafone es un desastre, Movistar mucho mejor"
    assert complained_entity(text, "es", named(text, "Vodafone", "Movistar")) == ("Vodafone", True)


def test_a_complaint_in_another_clause_is_only_the_nearest_and_no_phrase_is_none():
    text = "Me cambio de Vodafone a Movistar, no funciona nada"
    assert complained_entity(text, "es", named(text, "Vodafone", "Movistar")) == ("Movistar", False)
    text = "Adiós Vodafone, me voy a Movistar"
    assert complained_entity(text, "es", named(text, "Vodafone", "Movistar")) is None


def test_reading_complaints_does_not_load_spacy():
    code = "import sys, nlp.about; assert 'spacy' not in sys.modules, 'spacy was imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0
