"""One real Elasticsearch node for tests and benchmarks.

The node is Elasticsearch's integ-test-zip from Maven Central with our
listener-analysis plugin (es-plugin/) installed. The distribution and the plugin
build are cached; every start gets a fresh data directory and free loopback ports.

    node = start_node()    # or LISTENER_ES_URL=http://host:port to use a running node
    ...                    # node.url
    node.stop()

    python tests/es_node.py start|stop|status
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ES_VERSION = "8.19.8"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
PLUGIN_NAME = "listener-analysis"
PLUGIN_SOURCES = Path(__file__).resolve().parents[1] / "es-plugin"
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
SERVICE_USER = "listener-es"  # Elasticsearch refuses to run as root.
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
LOG_TAIL_LINES = 6

logger = logging.getLogger(__name__)


class NodeUnavailable(Exception):
    """No node could be had; the message says why in one sentence."""


@dataclass(eq=False)
class Node:
    url: str
    pid: int | None = None  # leader of the node's process group; None for LISTENER_ES_URL
    node_dir: Path | None = None  # its config, data and logs, removed on stop
    _process: subprocess.Popen | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop every process of a node we started and remove its files; a node we did not start is left alone."""
        _started.discard(self)
        if self.pid is not None:
            _stop_group(self.pid, self._process)
            self.pid = self._process = None
        if self.node_dir is not None:
            shutil.rmtree(self.node_dir, ignore_errors=True)
            self.node_dir = None


_started: set[Node] = set()


@atexit.register
def _stop_started_nodes() -> None:
    for node in list(_started):
        node.stop()


def cache_dir() -> Path:
    return Path(os.environ.get("LISTENER_CACHE_DIR") or Path.home() / ".cache" / "listener")


def runtime_dir() -> Path:
    """Where the unpacked distribution and the nodes' files live.

    The cache, unless we are root and the service user could not reach it
    (e.g. under /root); then a root-owned folder in the system temp dir.
    """
    cache = cache_dir()
    if os.geteuid() != 0 or _traversable_by_others(cache):
        return cache
    fallback = Path(tempfile.gettempdir()) / "listener-elasticsearch"
    fallback.mkdir(mode=0o755, exist_ok=True)
    info = fallback.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise NodeUnavailable(f"{fallback} is not a directory owned by root, so Elasticsearch will not run from it.")
    return fallback


def java_home() -> Path:
    candidates = [os.environ.get("ES_JAVA_HOME"), DEFAULT_JAVA_HOME, os.environ.get("JAVA_HOME")]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "bin" / "java").is_file():
            return Path(candidate)
    raise NodeUnavailable(
        f"No Java found for Elasticsearch: set ES_JAVA_HOME to a JDK 17 or newer (looked in {DEFAULT_JAVA_HOME})."
    )


def prepare_home() -> Path:
    """Unpack the distribution (fetching it once) and install the current plugin build; returns ES_HOME."""
    root = runtime_dir()
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        home = root / f"elasticsearch-{ES_VERSION}"
        if not home.is_dir():
            _fetch_and_unpack(root)
        install_plugin(home, build_plugin())
    return home


def build_plugin() -> Path:
    """Build the plugin zip with Maven, unless a build of the same sources is cached; returns the zip."""
    digest = _sources_digest(PLUGIN_SOURCES)
    plugins = cache_dir() / "plugins"
    target = plugins / f"{PLUGIN_NAME}-{digest}.zip"
    if target.is_file():
        return target
    logger.info("building the %s plugin", PLUGIN_NAME)
    with tempfile.TemporaryDirectory(prefix="listener-plugin-") as scratch:
        sources = Path(scratch) / "es-plugin"
        shutil.copytree(PLUGIN_SOURCES, sources, ignore=shutil.ignore_patterns("target"))  # keep the tree clean
        _mvn(["-q", "-B", "package"], cwd=sources, what=f"build the {PLUGIN_NAME} plugin")
        built = next((sources / "target").glob(f"{PLUGIN_NAME}-*.zip"))
        plugins.mkdir(parents=True, exist_ok=True)
        for stale in plugins.glob(f"{PLUGIN_NAME}-*.zip"):
            stale.unlink()
        shutil.move(built, target)
    return target


def install_plugin(home: Path, plugin_zip: Path) -> None:
    """Install the plugin into the distribution at home, replacing a different build."""
    marker = home.with_name(home.name + ".plugin")
    if marker.is_file() and marker.read_text() == plugin_zip.name:
        return
    shutil.rmtree(home / "plugins" / PLUGIN_NAME, ignore_errors=True)
    command = [str(home / "bin" / "elasticsearch-plugin"), "install", "--batch", plugin_zip.as_uri()]
    result = subprocess.run(command, env=_es_env(), capture_output=True, text=True)
    if result.returncode != 0:
        output = _last_lines(result.stdout + result.stderr)
        raise NodeUnavailable(f"Installing the {PLUGIN_NAME} plugin failed (exit {result.returncode}): {output}")
    marker.write_text(plugin_zip.name)


def start_node(timeout: float = START_TIMEOUT, *, heap: str = "512m", detached: bool = False) -> Node:
    """A node answering with yellow health, or the one at LISTENER_ES_URL.

    A node we start is stopped at interpreter exit, or when this thread dies,
    unless detached (for the command line).
    """
    external = os.environ.get("LISTENER_ES_URL")
    if external:
        url = external.rstrip("/")
        deadline = time.monotonic() + min(timeout, 30.0)
        while (problem := _health_problem(url)) and time.monotonic() < deadline:
            time.sleep(0.5)
        if problem:
            raise NodeUnavailable(f"The node at LISTENER_ES_URL={external} is not usable: {problem}.")
        return Node(url)

    home = prepare_home()
    _remove_abandoned_node_dirs()
    node_dir = Path(tempfile.mkdtemp(prefix="node-", dir=runtime_dir()))
    try:
        node = _launch(home, node_dir, heap, detached)
    except BaseException:
        shutil.rmtree(node_dir, ignore_errors=True)
        raise
    if not detached:
        _started.add(node)
    started = time.monotonic()
    try:
        node.url = _wait_for_start(node, time.monotonic() + timeout, timeout)
    except BaseException:
        node.stop()
        raise
    logger.info("Elasticsearch %s answers at %s (%.1f s)", ES_VERSION, node.url, time.monotonic() - started)
    return node


def _launch(home: Path, node_dir: Path, heap: str, detached: bool, overrides: dict | None = None) -> Node:
    """Start a node's process; ``overrides`` replace settings (None removes one), e.g. to join a cluster."""
    for sub in ("data", "logs", "tmp"):
        (node_dir / sub).mkdir(exist_ok=True)
    if not (node_dir / "config").is_dir():  # a restarted node keeps its config and data
        shutil.copytree(home / "config", node_dir / "config")
    settings = {
        "cluster.name": "listener-test",
        "node.name": "listener-test",
        "discovery.type": "single-node",
        "xpack.security.enabled": "false",
        "network.host": "127.0.0.1",
        "http.port": "0",  # any free port; Elasticsearch writes the one it took to logs/http.ports
        "transport.port": "0",
        "node.portsfile": "true",
        "path.data": str(node_dir / "data"),
        "path.logs": str(node_dir / "logs"),
        # A full-ish disk must not turn indices read-only.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    }
    for key, value in (overrides or {}).items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    command = [str(home / "bin" / "elasticsearch")] + [f"-E{key}={value}" for key, value in settings.items()]
    env = _es_env() | {
        "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap} -XX:-UsePerfData",
        "ES_PATH_CONF": str(node_dir / "config"),
        "ES_TMPDIR": str(node_dir / "tmp"),
        "HOME": str(node_dir),
    }
    as_user = _service_user() if os.geteuid() == 0 else {}
    if as_user:
        _chown_tree(node_dir, as_user["user"], as_user["group"])
    with open(node_dir / "console.log", "wb") as console:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if detached else _die_with_parent,
            **as_user,
        )
    (node_dir / "pid").write_text(str(process.pid))
    return Node("", process.pid, node_dir, process)


def _remove_abandoned_node_dirs() -> None:
    """Remove the files of nodes whose processes are gone without a stop (e.g. killed with SIGKILL)."""
    for node_dir in runtime_dir().glob("node-*"):
        try:
            pid = int((node_dir / "pid").read_text())
        except (OSError, ValueError):
            pid = None
        starting = pid is None and time.time() - node_dir.stat().st_mtime < 2 * START_TIMEOUT
        if not starting and (pid is None or not _group_alive(pid)):
            shutil.rmtree(node_dir, ignore_errors=True)


def _wait_for_start(node: Node, deadline: float, timeout: float) -> str:
    ports_file = node.node_dir / "logs" / "http.ports"
    while time.monotonic() < deadline:
        code = node._process.poll()
        if code is not None:
            raise NodeUnavailable(
                f"Elasticsearch exited with code {code} while starting; last log lines: {_log_tail(node)}"
            )
        if ports_file.is_file():
            url = "http://" + ports_file.read_text().split()[0]
            if _health_problem(url) is None:
                return url
        time.sleep(0.2)
    raise NodeUnavailable(
        f"Elasticsearch did not reach yellow health within {timeout:.0f} s; last log lines: {_log_tail(node)}"
    )


def _health_problem(url: str) -> str | None:
    """None when the cluster at url is yellow or green, else what is wrong."""
    try:
        health = f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s"
        with urllib.request.urlopen(health, timeout=5) as response:
            status = json.load(response).get("status")
    except urllib.error.HTTPError as error:  # 408 while the cluster is red
        return f"HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        return str(error.reason)
    except (OSError, ValueError) as error:
        return str(error)
    return None if status in ("yellow", "green") else f"cluster health is {status}"


def _stop_group(pgid: int, process: subprocess.Popen | None) -> None:
    """SIGTERM the process group and wait for all of it; SIGKILL what is left after STOP_TIMEOUT."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _group_alive(pgid):
            break
    if process is not None:
        with suppress(subprocess.TimeoutExpired):
            process.wait(1)  # reap the leader, or it lingers as a zombie


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies do not count: init may never reap them here)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the starting thread dies, even by SIGKILL, so no JVM is orphaned."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _service_user() -> dict:
    """Popen arguments to run as SERVICE_USER, creating it as a system user if needed."""
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER]
        try:
            result = subprocess.run(command, capture_output=True, text=True)
        except FileNotFoundError:
            result = None
        try:
            entry = pwd.getpwnam(SERVICE_USER)  # another process may have created it meanwhile
        except KeyError:
            reason = "useradd is missing" if result is None else result.stderr.strip()
            raise NodeUnavailable(
                f"Elasticsearch refuses to run as root and the system user {SERVICE_USER} could not be created: {reason}."
            ) from None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _fetch_and_unpack(root: Path) -> None:
    logger.info("fetching %s", ES_ARTIFACT)
    with tempfile.TemporaryDirectory(prefix="unpack-", dir=root) as scratch:
        scratch = Path(scratch)
        _mvn(
            ["-q", "-B", "dependency:copy", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={scratch}"],
            cwd=scratch,
            what=f"fetch {ES_ARTIFACT}",
        )
        with zipfile.ZipFile(scratch / f"elasticsearch-{ES_VERSION}.zip") as archive:
            for member in archive.infolist():
                path = Path(archive.extract(member, scratch / "home"))
                mode = member.external_attr >> 16 & 0o777  # zipfile drops permissions, e.g. bin/'s exec bits
                if mode and not member.is_dir():
                    path.chmod(mode)
        (scratch / "home" / f"elasticsearch-{ES_VERSION}").rename(root / f"elasticsearch-{ES_VERSION}")


def _mvn(args: list[str], cwd: Path, what: str) -> None:
    if shutil.which("mvn") is None:
        raise NodeUnavailable(f"Maven (mvn) is not installed, so the test node cannot {what}: apt-get install maven.")
    env = os.environ | {"JAVA_HOME": str(java_home())}
    command = ["mvn", "-Dstyle.color=never", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        errors = [line for line in output.splitlines() if line.startswith("[ERROR] ") and "-e switch" not in line]
        cause = " | ".join(errors[:3]) if errors else _last_lines(output)  # Maven's first errors name the cause
        raise NodeUnavailable(f"mvn could not {what} (exit {result.returncode}): {cause}")


def _es_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ES_", "JAVA_"))}
    return env | {"ES_JAVA_HOME": str(java_home()), "CLI_JAVA_OPTS": "-XX:-UsePerfData"}


def _sources_digest(folder: Path) -> str:
    """A hash of what the build reads: pom.xml and src/."""
    digest = hashlib.sha256()
    for path in sorted([folder / "pom.xml", *(folder / "src").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _traversable_by_others(path: Path) -> bool:
    existing = next(p for p in [path, *path.parents] if p.exists())
    return all(p.stat().st_mode & stat.S_IXOTH for p in [existing, *existing.parents])


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    os.chown(top, uid, gid)
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _log_tail(node: Node) -> str:
    try:
        return _last_lines((node.node_dir / "console.log").read_text(errors="replace"))
    except OSError:
        return "(no log)"


def _last_lines(text: str) -> str:
    """The last lines worth reading, on one line: Java stack frames are left out."""
    lines = [line.strip()[:400] for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("at ", "..."))]
    return " | ".join(lines[-LOG_TAIL_LINES:]) or "(no output)"


# Command line: a node that outlives the command, remembered in a state file.


def _state_file() -> Path:
    return runtime_dir() / "node.json"


def _read_state() -> Node | None:
    try:
        state = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    return Node(state["url"], state["pid"], Path(state["node_dir"]))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    command = argv[0] if argv else ""
    running = _read_state()
    alive = running is not None and running.pid is not None and _group_alive(running.pid)
    if command == "start":
        if alive:
            print(f"already running at {running.url}")
            return 0
        try:
            node = start_node(detached=True)
        except NodeUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if node.pid is not None:  # not the node at LISTENER_ES_URL
            state = {"url": node.url, "pid": node.pid, "node_dir": str(node.node_dir)}
            _state_file().write_text(json.dumps(state))
        print(node.url)
        return 0
    if command == "stop":
        if running is not None:
            running.stop()
            _state_file().unlink()
        print("stopped" if alive else "not running")
        return 0
    if command == "status":
        print(f"running at {running.url} (pid {running.pid})" if alive else "not running")
        return 0 if alive else 1
    print("usage: python tests/es_node.py start|stop|status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
