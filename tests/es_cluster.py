"""Several real Elasticsearch nodes on loopback, forming one cluster.

Each node is a process of its own with fixed ports (so a node killed with
SIGKILL comes back at the same address, with its data) and every node is
master-eligible and a data node, as a small production cluster is.

    cluster = start_cluster(3)
    cluster.urls             # every node's HTTP address
    cluster.kill(2)          # SIGKILL, its files kept
    cluster.restart(2)       # the same node rejoins
    cluster.stop()
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.es_node import (
    START_TIMEOUT,
    Node,
    NodeUnavailable,
    _group_alive,
    _launch,
    _log_tail,
    _remove_abandoned_node_dirs,
    _started,
    prepare_home,
    runtime_dir,
)

CLUSTER_NAME = "listener-cluster-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    home: Path
    folder: Path
    http_ports: list[int]
    transport_ports: list[int]
    heap: str = "512m"
    nodes: list[Node | None] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.http_ports]

    def name(self, number: int) -> str:
        return f"node-{number}"

    def launch(self, number: int) -> None:
        seeds = ",".join(f"127.0.0.1:{port}" for port in self.transport_ports)
        names = ",".join(self.name(n) for n in range(len(self.http_ports)))
        overrides = {
            "cluster.name": CLUSTER_NAME,
            "node.name": self.name(number),
            "discovery.type": None,
            "discovery.seed_hosts": seeds,
            "cluster.initial_master_nodes": names,
            "http.port": str(self.http_ports[number]),
            "transport.port": str(self.transport_ports[number]),
        }
        node_dir = self.folder / self.name(number)
        node_dir.mkdir(exist_ok=True)
        node = _launch(self.home, node_dir, self.heap, detached=False, overrides=overrides)
        node.url = self.urls[number]
        node.node_dir = None  # the cluster's folder holds its files; stop() removes them
        self.nodes[number] = node
        _started.add(node)

    def wait_for(self, status: str = "green", nodes: int | None = None, timeout: float = 3 * START_TIMEOUT) -> None:
        """Until the cluster answers with ``status`` and ``nodes`` members (all, by default)."""
        wanted = len(self.http_ports) if nodes is None else nodes
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for number, node in enumerate(self.nodes):
                if node is not None and node._process.poll() is not None:
                    raise NodeUnavailable(f"{self.name(number)} exited with code {node._process.poll()}: "
                                          f"{_log_tail(Node('', node_dir=self.folder / self.name(number)))}")
            for url in self.live_urls():
                try:
                    query = f"{url}/_cluster/health?wait_for_status={status}&wait_for_nodes={wanted}&timeout=1s"
                    with urllib.request.urlopen(query, timeout=5) as response:
                        health = json.load(response)
                    if not health.get("timed_out"):
                        return
                    last = f"{health.get('status')} with {health.get('number_of_nodes')} nodes"
                    break  # one node's answer is the cluster's
                except OSError as error:
                    last = str(error)
            time.sleep(0.5)
        raise NodeUnavailable(f"the cluster did not reach {status} with {wanted} nodes in {timeout:.0f} s ({last})")

    def live_urls(self) -> list[str]:
        return [url for url, node in zip(self.urls, self.nodes) if node is not None]

    def kill(self, number: int) -> None:
        """SIGKILL one node's processes, as a crash would; its data stays for a restart."""
        node = self.nodes[number]
        if node is None:
            return
        _started.discard(node)
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while _group_alive(node.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        node._process.wait(5)
        self.nodes[number] = None

    def restart(self, number: int) -> None:
        self.kill(number)
        self.launch(number)

    def stop(self) -> None:
        for number, node in enumerate(self.nodes):
            if node is not None:
                node.stop()
                self.nodes[number] = None
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(size: int = 3, heap: str = "512m", timeout: float = 3 * START_TIMEOUT) -> Cluster:
    """``size`` nodes on loopback that answer together with green health."""
    home = prepare_home()
    _remove_abandoned_node_dirs()
    folder = Path(tempfile.mkdtemp(prefix="cluster-", dir=runtime_dir()))
    folder.chmod(0o755)  # the nodes may run as the service user
    cluster = Cluster(home, folder, [free_port() for _ in range(size)], [free_port() for _ in range(size)], heap,
                      [None] * size)
    try:
        for number in range(size):
            cluster.launch(number)
        cluster.wait_for("green", timeout=timeout)
    except BaseException:
        cluster.stop()
        raise
    atexit.register(cluster.stop)
    return cluster
