from tests.nlp.factories_nlp import analyze


def test_untagged_complaint_about_the_brand_is_surfaced_with_its_reasons(cinema):
    analysis = analyze(cinema, "Cinesa me ha cobrado dos veces las entradas, vergüenza")
    assert analysis.surface
    assert "complains" in analysis.reasons
    assert any("does not tag Cinesa" in r for r in analysis.reasons)


def test_tagged_complaint_scores_lower_than_untagged(cinema):
    tagged = analyze(cinema, "@cinesa me habéis cobrado dos veces, vergüenza")
    untagged = analyze(cinema, "Cinesa me ha cobrado dos veces, vergüenza")
    assert tagged.surface and untagged.surface
    assert tagged.lead_score < untagged.lead_score


def test_prospect_sector_question_is_surfaced(cinema):
    analysis = analyze(cinema, "¿Qué cine me recomendáis para ver pelis en versión original?")
    assert analysis.surface
    assert analysis.lead_score >= 60


def test_competitor_churn_is_surfaced(cinema):
    assert analyze(cinema, "Nunca más vuelvo a Yelmo, me paso a otro cine").surface


def test_brand_own_promotion_is_not_surfaced(cinema):
    analysis = analyze(cinema, "¿Ya tienes tus entradas? Estreno hoy en Cinesa", author="cinesa")
    assert not analysis.surface
    assert analysis.lead_score == 0
    assert analysis.reasons == ("posted by Cinesa itself",)


def test_spam_is_not_surfaced(cinema):
    analysis = analyze(cinema, "Gana entradas de cine en Cinesa! Sígueme, link en bio")
    assert not analysis.surface
    assert analysis.reasons == ("looks like spam or a promotion",)


def test_many_hashtags_are_spam(cinema):
    assert not analyze(cinema, "Cinesa no funciona #a #b #c #d #e #f #g").surface


def test_homonym_is_noise(bank):
    analysis = analyze(bank, "¿Qué playas me recomendáis en Santander?")
    assert not analysis.surface
    assert analysis.lead_score == 0


def test_praise_is_not_surfaced(cinema):
    assert not analyze(cinema, "Me encanta la sala iSens de Cinesa").surface


def test_score_stays_within_zero_and_one_hundred(cinema):
    analysis = analyze(cinema, "¿Kinépolis o Yelmo? Qué cine me recomendáis? Estoy harto de Yelmo, me voy. Cinesa mola")
    assert 0 <= analysis.lead_score <= 100
