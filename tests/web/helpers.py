"""Users and a logged-in API client for the web tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from listener.web.users import User, Users, hash_password

PASSWORD = "correct horse battery"
# Cheap hashes keep the tests fast; the format and the check are the production ones.
USERS = Users([User(name, role, hash_password(PASSWORD, n=2**8)) for name, role in
               (("ana", "agent"), ("luis", "agent"), ("marta", "analyst"), ("root", "admin"))])


def log_in(app, name: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver")
    response = client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client
