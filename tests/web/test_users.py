import pytest

from listener.errors import ConfigError
from listener.web.users import Users, add_user, hash_password, parse_users, verify_password


def test_a_password_verifies_against_its_scrypt_hash_only():
    stored = hash_password("s3cret-enough", n=2**8)
    assert stored.startswith("scrypt$256$8$1$")
    assert verify_password("s3cret-enough", stored)
    assert not verify_password("s3cret-enougH", stored)
    assert not verify_password("s3cret-enough", "plain-text")


def test_the_same_password_hashes_differently_each_time():
    assert hash_password("again", n=2**8) != hash_password("again", n=2**8)


def test_users_file_lines_with_comments(tmp_path):
    path = tmp_path / "users.txt"
    add_user(path, "ana", "agent", "password-1")
    add_user(path, "marta", "analyst", "password-2")
    add_user(path, "ana", "admin", "password-3")  # replaces ana
    path.write_text("# the team\n" + path.read_text())
    users = Users.load(path, None)
    assert [(u.name, u.role) for u in users] == [("marta", "analyst"), ("ana", "admin")]
    assert users.authenticate("ana", "password-3").role == "admin"
    assert users.authenticate("ana", "password-1") is None
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_users_from_the_environment_add_to_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TEAM", f"root:admin:{hash_password('pw', n=2**8)}")
    users = Users.load(tmp_path / "missing.txt", "TEAM")
    assert users.names() == ["root"] and users.authenticate("root", "pw")


@pytest.mark.parametrize(("line", "message"), [
    ("ana:boss:scrypt$1$1$1$a$b", "unknown role 'boss' \\(valid: agent, analyst, admin\\)"),
    ("ana:agent:hunter2", "the password must be an scrypt hash"),
    ("a b:agent:scrypt$1$1$1$a$b", "user name 'a b'"),
])
def test_a_bad_users_line_names_file_line_and_problem(line, message):
    with pytest.raises(ConfigError, match=f"users.txt, line 2: .*{message}"):
        parse_users("# team\n" + line, "users.txt")
