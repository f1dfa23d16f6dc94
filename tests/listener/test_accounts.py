"""Per-platform brand accounts: validated on load, and the ones that decide who answered a post there."""

from __future__ import annotations

import pytest

from listener.config import parse_config
from listener.errors import ConfigError
from listener.threads import reply_state
from tests.factories import post

ACCOUNTS = """\
brand:
  name: Cinesa
  handles: ["@Cinesa"]
  accounts:
    reddit: [u/cinesa_es]
    mastodon: ["@cinesa@mastodon.social"]
    bluesky: [cinesa.bsky.social]
competitors:
  - {name: Yelmo, handles: ["@yelmocines"], accounts: {reddit: [yelmo_oficial]}}
sources:
  - {kind: reddit, name: r}
  - {kind: mastodon, name: m}
  - {kind: twitter, name: x}
"""
CONFIG = parse_config(ACCOUNTS)


def answered_by(source: str, replier: str) -> str:
    return reply_state(post("¿Alguien sabe?", source=source, author="ana", replied_by=(replier,),
                            reply_check="checked"), CONFIG).answered_by


@pytest.mark.parametrize("source, replier, who", [
    ("r", "cinesa_es", "brand"),                        # u/cinesa_es on Reddit
    ("r", "Cinesa", "other"),                           # @Cinesa is the brand on X, not a Reddit user's name
    ("r", "yelmo_oficial", "competitor"),
    ("m", "@cinesa@mastodon.social", "brand"),
    ("m", "@cinesa@impostor.example", "other"),         # the same name on another server is someone else
    ("x", "@cinesa", "brand"),                          # platforms without accounts use handles
    ("x", "@yelmocines", "competitor"),
])
def test_replies_are_attributed_by_the_accounts_of_the_posts_platform(source, replier, who):
    assert answered_by(source, replier) == who


@pytest.mark.parametrize("accounts, message", [
    ("{myspace: [cinesa]}", "unknown platform 'myspace' (platforms: twitter, reddit"),
    ("{mastodon: ['@cinesa']}", "mastodon account '@cinesa' is not a full Mastodon address like @cinesa@mastodon.social"),
    ("{reddit: ['u/c']}", "reddit account 'u/c' is not a Reddit username like u/cinesa_es"),
    ("{reddit: cinesa_es}", "brand.accounts.reddit"),
])
def test_a_bad_account_is_refused_naming_file_line_platform_and_form(accounts, message):
    with pytest.raises(ConfigError) as error:
        parse_config(f"brand:\n  name: Cinesa\n  accounts: {accounts}\n", "c.yaml")
    assert "c.yaml, line 3" in str(error.value) and message in str(error.value)
