from click.testing import CliRunner

from listener.errors import ListenerError
from listener.web.cli import serve, user
from listener.web.users import Users


def write_config(tmp_path, web: str = "") -> str:
    path = tmp_path / "brand.yaml"
    path.write_text(f"brand: {{name: Cinesa}}\ndata_dir: {tmp_path / 'data'}\n{web}")
    return str(path)


def test_user_add_writes_a_hashed_password(tmp_path):
    config = write_config(tmp_path)
    result = CliRunner().invoke(user, ["add", "ana", "--role", "agent", "--config", config, "--password-stdin"], input="long enough pw\n")
    assert result.exit_code == 0, result.output
    assert "ana (agent) can now log in" in result.output
    text = (tmp_path / "data" / "users.txt").read_text()
    assert text.startswith("ana:agent:scrypt$") and "long enough pw" not in text
    assert Users.load(tmp_path / "data" / "users.txt", None).authenticate("ana", "long enough pw")


def test_user_add_refuses_a_short_password_in_one_sentence(tmp_path):
    result = CliRunner().invoke(user, ["add", "ana", "--role", "agent", "--config", write_config(tmp_path), "--password-stdin"], input="short\n")
    assert result.exit_code == 2
    assert "Error: the password is shorter than 8 characters" in result.output


def test_user_remove_takes_the_user_out_of_the_file(tmp_path):
    config = write_config(tmp_path)
    for name in ("ana", "luis"):
        CliRunner().invoke(user, ["add", name, "--role", "agent", "--config", config, "--password-stdin"], input="long enough pw\n")
    result = CliRunner().invoke(user, ["remove", "ana", "--config", config])
    assert result.exit_code == 0, result.output
    assert "ana can no longer log in" in result.output
    assert Users.load(tmp_path / "data" / "users.txt", None).names() == ["luis"]
    assert oct((tmp_path / "data" / "users.txt").stat().st_mode & 0o777) == "0o600"


def test_user_remove_of_someone_unknown_says_so(tmp_path):
    result = CliRunner().invoke(user, ["remove", "nobody", "--config", write_config(tmp_path)])
    assert result.exit_code != 0 and "there is no user 'nobody'" in result.output


def test_user_list(tmp_path):
    config = write_config(tmp_path)
    CliRunner().invoke(user, ["add", "marta", "--role", "analyst", "--config", config, "--password-stdin"], input="long enough pw\n")
    assert CliRunner().invoke(user, ["list", "--config", config]).output == "marta\tanalyst\n"


def test_serve_refuses_to_start_without_users(tmp_path):
    result = CliRunner().invoke(serve, ["--config", write_config(tmp_path), "--port", "0"])
    assert isinstance(result.exception, ListenerError)
    assert "no one can log in" in str(result.exception) and "listener user add" in result.exception.hint


def test_serve_reports_a_web_config_mistake_before_opening_the_index(tmp_path):
    result = CliRunner().invoke(serve, ["--config", write_config(tmp_path, "web: {colour: red}\n")])
    assert "unknown key 'web.colour'" in str(result.exception)
    assert not (tmp_path / "data" / "listener.db").exists()


def test_serve_serves_until_stopped(tmp_path, monkeypatch):
    config = write_config(tmp_path)
    CliRunner().invoke(user, ["add", "ana", "--role", "agent", "--config", config, "--password-stdin"], input="long enough pw\n")
    started = []
    monkeypatch.setattr("uvicorn.Server.run", lambda self, sockets: started.append(sockets[0].getsockname()))
    result = CliRunner().invoke(serve, ["--config", config, "--port", "0"])
    assert result.exit_code == 0, result.output
    host, port = started[0]
    assert f"Serving listener at http://127.0.0.1:{port}/ (sqlite index, 1 users)" in result.output


def test_demo_users_get_one_fresh_password_each(tmp_path):
    from listener.web import create_demo_users

    created = create_demo_users(tmp_path / "users.txt")
    assert [(name, role) for name, role, _ in created] == [("ana", "agent"), ("luis", "agent"), ("marta", "analyst"), ("admin", "admin")]
    users = Users.load(tmp_path / "users.txt", None)
    assert all(users.authenticate(name, password) for name, _, password in created)
    assert len({password for _, _, password in created}) == 4
