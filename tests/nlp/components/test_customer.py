from tests.nlp.factories_nlp import analyze


def test_usage_cue_near_the_brand_is_a_customer(cinema):
    assert analyze(cinema, "No puedo cambiar mis entradas de Cinesa").customer_status == "customer"


def test_complaint_about_the_brand_from_own_experience_is_a_customer(cinema):
    assert analyze(cinema, "Otra vez la app de Cinesa caída, qué desastre").customer_status == "customer"


def test_competitor_customer_who_complains_is_a_prospect(cinema):
    assert analyze(cinema, "Yelmo me ha cobrado dos veces, vergüenza").customer_status == "prospect"


def test_competitor_customer_who_is_happy_is_unknown(cinema):
    assert analyze(cinema, "Me encanta mi abono de Yelmo Cines").customer_status == "unknown"


def test_question_in_the_sector_is_a_prospect(cinema):
    assert analyze(cinema, "Qué cine me recomendáis en Sevilla?").customer_status == "prospect"


def test_question_outside_the_sector_is_unknown(cinema):
    assert analyze(cinema, "Qué móvil me recomendáis?").customer_status == "unknown"


def test_negated_usage_cue_is_not_a_customer(airline):
    assert analyze(airline, "¿Qué tal es volar con Vueling? Nunca he volado con ellos").customer_status == "prospect"


def test_brand_own_post_is_unknown(cinema):
    assert analyze(cinema, "Compra tus entradas de cine en Cinesa", author="cinesa").customer_status == "unknown"
