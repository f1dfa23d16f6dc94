import pytest

from listener.config import parse_config
from listener.errors import ConfigError
from listener.web.settings import WebSettings, web_settings


def settings(text: str) -> WebSettings:
    return web_settings(parse_config(text, "brand.yaml"))


def test_the_web_section_is_optional():
    assert settings("brand: {name: Cinesa}") == WebSettings()
    assert WebSettings().secure_cookies is True


def test_an_unknown_key_is_named_with_the_valid_ones():
    with pytest.raises(ConfigError, match=r"brand.yaml: unknown key 'web.prot' \(valid keys: .*port.*\)"):
        settings("web: {prot: 80}")


def test_a_wrong_value_names_the_key_and_what_was_found():
    with pytest.raises(ConfigError, match=r"brand.yaml: web.port: .*65535, found 70000"):
        settings("web: {port: 70000}")
    with pytest.raises(ConfigError, match=r"web.same_site: .*'lax' or 'strict'"):
        settings("web: {same_site: none}")


def test_reply_templates_are_checked_by_reading_language_and_placeholder():
    assert settings("web: {replies: {our_complaint: {es: '{greeting}, lo sentimos. {brand}'}}}").replies["our_complaint"]["es"]
    with pytest.raises(ConfigError, match=r"brand.yaml: web.replies: unknown reading 'rant' \(valid: our_complaint, .*\)"):
        settings("web: {replies: {rant: {es: hola}}}")
    with pytest.raises(ConfigError, match=r"web.replies: template question/fr: unknown language 'fr'"):
        settings("web: {replies: {question: {fr: salut}}}")
    with pytest.raises(ConfigError, match=r"web.replies: template question/es uses an unknown placeholder \{name\} "
                                          r"\(placeholders: \{greeting\}, \{brand\}\)"):
        settings("web: {replies: {question: {es: 'Hola {name}'}}}")


def test_reply_links_must_be_web_addresses():
    assert settings("web: {reply_links: {reddit: 'https://old.reddit.com/{native_id}'}}").reply_links
    with pytest.raises(ConfigError, match="must start with https://"):
        settings("web: {reply_links: {reddit: 'javascript:alert(1)'}}")


def test_every_setting_has_a_description():
    assert all(field.description for field in WebSettings.model_fields.values())


def test_every_setting_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "listener" / "web" / "README.md").read_text()
    for name in WebSettings.model_fields:
        assert f"| `{name}` |" in readme, name
