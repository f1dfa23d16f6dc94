"""Logging in under attack: throttles per account and client, forwarded headers, users removed from the file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from listener.web import create_app
from listener.web.clients import client_address, parse_networks
from listener.web.throttle import Limits, LoginThrottle
from listener.web.users import Users, add_user, remove_user
from tests.web.corpus import NOW, config
from tests.web.helpers import PASSWORD, USERS


def client(app, address: str = "203.0.113.7", **headers) -> TestClient:
    browser = TestClient(app, base_url="https://testserver", client=(address, 50000))
    browser.headers.update(headers)
    return browser


def attempt(browser: TestClient, name: str = "ana", password: str = "wrong", **headers):
    return browser.post("/api/session", json={"username": name, "password": password}, headers=headers)


@pytest.fixture
def app(sqlite_backend):
    return create_app(config(), sqlite_backend, users=USERS, now=lambda: NOW)


@pytest.fixture
def proxied_app(sqlite_backend):
    return create_app(config(trusted_proxies=["10.0.0.5"]), sqlite_backend, users=USERS, now=lambda: NOW)


# -- throttles -----------------------------------------------------------------------


def test_twenty_wrong_passwords_from_one_client_do_not_lock_the_account_for_another(app):
    attacker = client(app, "203.0.113.7")
    codes = [attempt(attacker).status_code for _ in range(20)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    assert attempt(attacker, password=PASSWORD).status_code == 429
    assert attempt(client(app, "198.51.100.20"), password=PASSWORD).status_code == 200


def test_a_refused_attempt_says_when_to_try_again(app):
    attacker = client(app)
    for _ in range(10):
        attempt(attacker)
    response = attempt(attacker)
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= 300


def test_the_login_form_is_throttled_the_same_way(app):
    attacker = client(app)
    token = attacker.get("/login").cookies.get("__Host-listener-login")
    form = {"username": "ana", "password": "wrong", "csrf_token": token}
    codes = [attacker.post("/login", data=form, follow_redirects=False).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    assert "try again in 5 minutes" in attacker.post("/login", data=form).text


def test_one_client_guessing_many_names_is_stopped_for_all_of_them(app):
    sprayer = client(app)
    for number in range(30):
        attempt(sprayer, name=f"user{number}")
    assert attempt(sprayer, name="luis", password=PASSWORD).status_code == 429
    assert attempt(client(app, "198.51.100.20"), name="luis", password=PASSWORD).status_code == 200


def test_an_account_guessed_from_many_clients_still_lets_in_the_clients_it_was_used_from(app):
    assert attempt(client(app, "192.0.2.1"), password=PASSWORD).status_code == 200
    for number in range(100):
        attempt(client(app, f"203.0.113.{number}"))
    assert attempt(client(app, "198.51.100.20"), password=PASSWORD).status_code == 429
    assert attempt(client(app, "192.0.2.1"), password=PASSWORD).status_code == 200


def test_parallel_guesses_cannot_slip_past_the_throttle(app):
    from concurrent.futures import ThreadPoolExecutor

    web = app.state.web
    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(lambda _: web.log_in("ana", "wrong", "203.0.113.7"), range(40)))
    assert sum(1 for user, wait in results if not wait) == 10


def test_a_right_password_takes_back_its_own_attempt():
    throttle = LoginThrottle(Limits(per_pair=3, per_client=3))
    for name in ("ana", "luis", "marta"):
        assert throttle.attempt(name, "a") == 0
        throttle.succeeded(name, "a")
    assert not throttle.blocked("nuria", "a")


def test_the_throttle_forgets_failures_after_its_window():
    now = [0.0]
    throttle = LoginThrottle(Limits(per_pair=3, window=60), clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("ana", "a")
    assert throttle.retry_after("ana", "a") == 60
    now[0] = 30
    assert throttle.retry_after("ana", "a") == 30
    now[0] = 60.5
    assert not throttle.blocked("ana", "a")


def test_the_throttle_stays_bounded_under_made_up_names():
    throttle = LoginThrottle(max_keys=1000)
    for number in range(5000):
        throttle.failed(f"name{number}", "a")
    assert len(throttle._failures) <= 1000


# -- forwarded headers ------------------------------------------------------------------


def test_a_new_x_forwarded_for_on_each_attempt_does_not_reset_the_throttle(app):
    attacker = client(app)
    codes = [attempt(attacker, **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(12)]
    assert codes[-1] == 429


def test_a_real_server_on_loopback_does_not_believe_x_forwarded_for_either(app):
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to; the app decides whom to believe."""
    import httpx

    from listener.web import running

    with running(app) as url, httpx.Client(base_url=url) as http:
        codes = [http.post("/api/session", json={"username": "ana", "password": "wrong"},
                           headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(11)]
    assert codes == [401] * 10 + [429]


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(proxied_app):
    proxy = client(proxied_app, "10.0.0.5")
    for _ in range(10):
        attempt(proxy, **{"X-Forwarded-For": "203.0.113.7"})
    assert attempt(proxy, password=PASSWORD, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert attempt(proxy, password=PASSWORD, **{"X-Forwarded-For": "198.51.100.20"}).status_code == 200


def test_behind_a_trusted_proxy_only_the_address_it_appended_counts(proxied_app):
    proxy = client(proxied_app, "10.0.0.5")
    codes = [attempt(proxy, **{"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"}).status_code for n in range(11)]
    assert codes[-1] == 429


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(proxied_app):
    stranger = client(proxied_app, "203.0.113.7")
    for _ in range(10):
        attempt(stranger, **{"X-Forwarded-For": "198.51.100.20"})
    assert attempt(client(proxied_app, "10.0.0.5"), password=PASSWORD, **{"X-Forwarded-For": "198.51.100.20"}).status_code == 200


@pytest.mark.parametrize("peer, header, expected", [
    ("203.0.113.7", ["1.2.3.4"], "203.0.113.7"),
    ("10.0.0.5", ["1.2.3.4, 203.0.113.7"], "203.0.113.7"),
    ("10.0.0.5", ["203.0.113.7, 10.0.0.6"], "203.0.113.7"),
    ("10.0.0.5", ["garbage"], "10.0.0.5"),
    ("10.0.0.5", [], "10.0.0.5"),
    ("10.0.0.5", ["[2001:db8::1]:443"], "2001:db8::/64"),
    ("2001:db8::1", [], "2001:db8::/64"),
    ("::ffff:203.0.113.7", [], "203.0.113.7"),
])
def test_the_client_address(peer, header, expected):
    assert client_address(peer, header, parse_networks(["10.0.0.0/24"])) == expected


def test_a_bad_trusted_proxy_is_refused_with_the_key():
    from listener.errors import ConfigError
    from listener.web.settings import web_settings

    with pytest.raises(ConfigError, match=r"web.trusted_proxies: 'proxy.local' is not an IP address or network"):
        web_settings(config(trusted_proxies=["proxy.local"]))


# -- the users file -------------------------------------------------------------------------


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.txt"
    for name, role in (("ana", "agent"), ("luis", "agent")):
        add_user(path, name, role, PASSWORD)
    return path


@pytest.fixture
def file_app(sqlite_backend, users_file):
    app = create_app(config(), sqlite_backend, users=Users.load(users_file, None), now=lambda: NOW)
    app.state.web.users_check_seconds = 0
    return app


def remove_line(path, name: str) -> None:
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith(name + ":")))


def test_a_user_removed_from_the_file_cannot_log_in_and_their_sessions_end(file_app, users_file):
    ana, luis = client(file_app), client(file_app, "198.51.100.20")
    for browser, name in ((ana, "ana"), (luis, "luis")):
        browser.headers["X-CSRF-Token"] = attempt(browser, name, PASSWORD).json()["csrf_token"]
    remove_line(users_file, "ana")
    assert ana.get("/api/me").status_code == 401
    assert ana.get("/inbox", follow_redirects=False).status_code == 303
    assert attempt(client(file_app, "192.0.2.9"), "ana", PASSWORD).status_code == 401
    assert luis.get("/api/me").json()["username"] == "luis"


def test_listener_user_remove_logs_a_running_apps_user_out(file_app, users_file):
    ana = client(file_app)
    attempt(ana, "ana", PASSWORD)
    assert remove_user(users_file, "ana")
    assert ana.get("/api/me").status_code == 401


def test_a_role_changed_in_the_file_ends_the_old_sessions(file_app, users_file):
    ana = client(file_app)
    attempt(ana, "ana", PASSWORD)
    add_user(users_file, "ana", "analyst", PASSWORD)
    assert ana.get("/api/me").status_code == 401
    assert attempt(ana, "ana", PASSWORD).json()["role"] == "analyst"


def test_a_user_added_to_the_file_can_log_in_without_a_restart(file_app, users_file):
    add_user(users_file, "nuria", "analyst", PASSWORD)
    assert attempt(client(file_app), "nuria", PASSWORD).status_code == 200


def test_a_users_file_that_no_longer_parses_keeps_the_users_read_before(file_app, users_file, caplog):
    users_file.write_text(users_file.read_text() + "broken line\n")
    assert attempt(client(file_app), "ana", PASSWORD).status_code == 200
    assert "users file not reloaded" in caplog.text


def test_a_hangup_signal_makes_the_next_request_read_the_users_file(file_app, users_file):
    import os
    import signal

    from listener.web.server import reload_users_on_hangup

    file_app.state.web.users_check_seconds = 3600
    ana = client(file_app)
    attempt(ana, "ana", PASSWORD)
    remove_line(users_file, "ana")
    assert ana.get("/api/me").status_code == 200  # not looked at yet
    with reload_users_on_hangup(file_app):
        os.kill(os.getpid(), signal.SIGHUP)
    assert ana.get("/api/me").status_code == 401


def test_the_users_file_is_looked_at_well_within_a_minute(sqlite_backend, users_file):
    app = create_app(config(), sqlite_backend, users=Users.load(users_file, None), now=lambda: NOW)
    assert app.state.web.users_check_seconds <= 10
