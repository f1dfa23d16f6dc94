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


def test_catalan_possessive_usage_cue_makes_a_customer(cinema):
    assert analyze(cinema, "Els meus punts de Cinesa han desaparegut de l'app").customer_status == "customer"


def test_paying_with_the_brand_makes_a_customer(bank):
    assert analyze(bank, "He pagado con la tarjeta del Sabadell en Londres").customer_status == "customer"


def test_brand_named_inside_an_english_usage_cue_makes_a_customer(bank):
    assert analyze(bank, "My Sabadell card was declined at the supermarket").customer_status == "customer"


def test_switching_from_a_competitor_to_the_brand_makes_a_customer(cinema):
    assert analyze(cinema, "Me he cambiado de Yelmo a Cinesa y no me arrepiento").customer_status == "customer"


def test_switching_between_competitors_is_a_prospect(cinema):
    assert analyze(cinema, "Me he cambiado de Kinépolis a Yelmo, harto de los precios").customer_status == "prospect"


def test_complaint_about_the_brand_next_to_a_competitor_is_a_customer(cinema):
    text = "Otra vez la app de Cinesa caída, en Yelmo esto no pasa"
    assert analyze(cinema, text).customer_status == "customer"


def test_complaint_with_a_wait_in_hours_is_a_customer(airline):
    assert analyze(airline, "O voo da Vueling atrasou duas horas e ninguém deu explicação").customer_status == "customer"


def test_complaint_about_an_outage_is_a_customer(telecom):
    assert analyze(telecom, "No signal with Digi anywhere in the old town, useless").customer_status == "customer"


def test_praise_for_the_crew_of_the_flight_is_a_customer(airline):
    assert analyze(airline, "Molt contenta amb Vueling, tripulació molt amable").customer_status == "customer"


def test_question_about_the_crew_is_not_a_customer(airline):
    assert analyze(airline, "¿La tripulación de Vueling habla catalán?").customer_status == "prospect"


def test_first_visit_praised_is_not_a_prospect(cinema):
    assert analyze(cinema, "Primera vez en la sala 4DX de Cinesa, brutal").customer_status != "prospect"
