import pytest

from tests.nlp.conftest import CINEMA, blank, entities, run
from tests.nlp.factories_nlp import analyze


@pytest.fixture(scope="module")
def pipelines():
    return {lang: blank(lang, ("listener_intents", {})) for lang in ("es", "ca", "en", "pt")}


def intents(pipelines, text: str, lang: str = "es") -> tuple[str, ...]:
    return run(pipelines[lang], text)._.listener_intents


def test_question_mark_is_a_question(pipelines):
    assert "question" in intents(pipelines, "Abre hoy el cine?")


def test_question_without_question_mark(pipelines):
    assert "question" in intents(pipelines, "alguien sabe si abren el domingo")


def test_inverted_mark_opens_a_question_without_closing_mark(pipelines):
    assert "question" in intents(pipelines, "¿A qué hora empieza la sesión")


def test_question_starting_with_a_greeting_and_no_mark(pipelines):
    assert "question" in intents(pipelines, "Hola, cómo puedo cambiar la hora de la sesión")


def test_indirect_question(pipelines):
    assert "question" in intents(pipelines, "Me gustaría saber si hacéis descuento a jubilados.")


def test_english_indirect_question(pipelines):
    assert "question" in intents(pipelines, "Does anyone know whether they open on Sundays", "en")


def test_rhetorical_question_in_a_rant_is_not_a_question(pipelines):
    found = intents(pipelines, "¿En serio? ¿Nueve euros por unas palomitas? Qué vergüenza.")
    assert "question" not in found
    assert "complaint" in found


def test_rhetorical_question_with_a_real_question_still_asks(pipelines):
    assert "question" in intents(pipelines, "¿Es normal que tarden tanto? ¿Alguien sabe cómo reclamar?")


def test_recommendation_request(pipelines):
    assert "recommendation_request" in intents(pipelines, "Qué cine me recomendáis en Madrid?")


def test_catalan_worth_it_is_a_recommendation_request(pipelines):
    assert "recommendation_request" in intents(pipelines, "Val la pena el Kinépolis?", "ca")


def test_any_alternatives_is_a_recommendation_request(pipelines):
    assert "recommendation_request" in intents(pipelines, "Any alternatives to this cinema?", "en")


def test_question_naming_two_companies_asks_which_to_choose():
    nlp = blank("es", ("listener_brands", {"entities": entities(CINEMA)}), ("listener_intents", {}))
    assert "recommendation_request" in run(nlp, "¿Kinépolis o Yelmo para ver Dune?")._.listener_intents


def test_problem_phrase_is_a_complaint(pipelines):
    assert "complaint" in intents(pipelines, "La web no funciona desde ayer")


def test_all_caps_anger_is_a_complaint(pipelines):
    assert "complaint" in intents(pipelines, "OTRA SESIÓN CANCELADA SIN AVISAR A NADIE")


def test_all_caps_joy_is_praise_not_complaint(pipelines):
    found = intents(pipelines, "QUÉ PASADA DE PELÍCULA, GENIAL TODO")
    assert "praise" in found
    assert "complaint" not in found


def test_sarcastic_praise_is_a_complaint(pipelines):
    found = intents(pipelines, "Genial, otra vez la app caída 🙄")
    assert "complaint" in found
    assert "praise" not in found


def test_english_sarcasm_is_a_complaint(pipelines):
    found = intents(pipelines, "Thanks for nothing, great service as always", "en")
    assert found == ("complaint",)


def test_negated_complaint_is_not_a_complaint(pipelines):
    assert "complaint" not in intents(pipelines, "No tengo ninguna queja, todo perfecto")


def test_insult_in_the_text_is_a_complaint(pipelines):
    assert "complaint" in intents(pipelines, "Gilipollas el que diseñó esta web")


def test_switching_to_a_competitor_is_churn(pipelines):
    assert "churn" in intents(pipelines, "Me cambio a Yelmo, aquí ya no vuelvo")


def test_portuguese_closing_an_account_is_churn(pipelines):
    assert "churn" in intents(pipelines, "Vou encerrar minha conta amanhã", "pt")


def test_praise(pipelines):
    assert intents(pipelines, "Me encanta esta sala, la mejor de Madrid") == ("praise",)


def test_praise_word_inside_a_question_is_not_praise(pipelines):
    assert "praise" not in intents(pipelines, "¿Cuál es el mejor cine de Madrid?")


def test_thanks_in_a_question_is_not_praise(pipelines):
    assert intents(pipelines, "¿Alguien sabe si abren hoy? Gracias") == ("question",)


def test_thanks_alone_is_praise(pipelines):
    assert intents(pipelines, "Moltes gràcies per tot", "ca") == ("praise",)


def test_hashtag_words_count(pipelines):
    assert "complaint" in intents(pipelines, "#CinesaNoContesta")


def test_plain_statement_has_no_intent(pipelines):
    assert intents(pipelines, "Mañana quedamos para cenar") == ()


def test_still_waiting_for_a_refund_is_a_complaint(pipelines):
    assert "complaint" in intents(pipelines, "Todavía no me ha llegado el reembolso de la sesión")


def test_portuguese_charge_is_a_complaint(pipelines):
    assert "complaint" in intents(pipelines, "A operadora me cobrou uma taxa que ninguém explicou", "pt")


def test_liking_it_and_coming_back_is_praise(pipelines):
    assert intents(pipelines, "Nos encantó la sesión de anime, repetiremos") == ("praise",)


def test_kind_staff_is_praise_in_catalan(pipelines):
    assert intents(pipelines, "La tripulació súper atenta i el vol puntual", "ca") == ("praise",)


def test_english_well_done_is_praise_not_sarcasm(pipelines):
    assert intents(pipelines, "Well done Vueling, smooth flight and friendly crew", "en") == ("praise",)


def test_sincere_que_maravilla_is_praise(pipelines):
    assert intents(pipelines, "Qué maravilla la nueva sala, se ve de lujo") == ("praise",)


def test_asking_for_any_bank_is_a_recommendation_request(pipelines):
    assert "recommendation_request" in intents(pipelines, "¿Algún banco sin comisiones para autónomos?")


def test_better_before_a_sector_word_asks_which_company(telecom):
    assert "recommendation_request" in analyze(telecom, "¿Quién tiene mejor cobertura en Asturias?").intents


def test_asking_whether_a_fee_exists_is_not_a_recommendation_request(bank):
    assert "recommendation_request" not in analyze(bank, "¿Cobran alguna comisión por las transferencias?").intents
