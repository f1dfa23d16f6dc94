"""Real scrapyd daemons on loopback, serving this checkout as the ``listener`` project.

A daemon runs in a folder of its own holding a copy of the project's
``scrapy.cfg`` (``[settings] listener = spiders.settings``) and its
``scrapyd.conf``, with this checkout on its PYTHONPATH: as a worker machine
with listener installed runs it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.request import urlopen

from tests.scheduler.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
poll_interval = 0.1
max_proc = 4
logs_dir = {folder}/logs
eggs_dir = {folder}/eggs
dbs_dir = {folder}/dbs
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Scrapyd:
    """``python -m scrapyd`` in ``folder``; ``url`` is where its API answers."""

    def __init__(self, folder: Path, env: dict | None = None):
        self.folder = folder
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> Scrapyd:
        self.folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        (self.folder / "scrapy.cfg").write_text((ROOT / "scrapy.cfg").read_text(), encoding="utf-8")
        (self.folder / "scrapyd.conf").write_text(CONFIG.format(port=port, folder=self.folder), encoding="utf-8")
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(self.folder / "scrapyd.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=self.folder, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_until(self.answers, timeout=30, interval=0.1)
        except BaseException:
            self.__exit__()
            raise
        return self

    def answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"scrapyd exited: {(self.folder / 'scrapyd.log').read_text()}")
        try:
            with urlopen(f"{self.url}/daemonstatus.json", timeout=2) as response:
                return json.loads(response.read()).get("status") == "ok"
        except OSError:
            return False

    def jobs(self) -> dict:
        with urlopen(f"{self.url}/listjobs.json?project=listener", timeout=5) as response:
            return json.loads(response.read())

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
