"""A running ``listener run`` applies a changed configuration file (as the settings page writes it) without a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from listener.config import load_config
from scheduler.service import ListenerService, Ticks
from tests.scheduler.helpers import LocalSource, StaticRefresher, local_post, wait_until

CONFIG = """\
# Cinemas.
brand: {{name: Cinesa, aliases: [cinesa]}}
competitors:
  - {{name: Yelmo Cines, aliases: {aliases}}}
sector: {{keywords: [cine, palomitas, sala]}}
languages: [es]
data_dir: {data}
sources:
  - {{kind: local, name: local, interval: {interval}}}
alerts: {{sla: {{enabled: false}}, spikes: {{enabled: false}}, digest: {{enabled: false}}}}
"""


@pytest.mark.slow
def test_a_new_alias_and_interval_apply_to_the_running_service(tmp_path):
    from nlp.analyzer import Analyzer

    path = tmp_path / "listener.yaml"
    path.write_text(CONFIG.format(aliases="[yelmo]", data=tmp_path / "data", interval="1h"), encoding="utf-8")
    config = load_config(path)
    source = LocalSource()
    listener = ListenerService(config, crawler=source, refresher=StaticRefresher(), analyzer=Analyzer(config), channels=[],
                               ticks=Ticks(heartbeat=3600, config=3600))
    listener.start()
    try:
        wait_until(lambda: source.calls and source.calls[0].ended, timeout=30)  # the first crawl, at start
        assert not listener.reload_config()  # nothing changed yet

        path.write_text(CONFIG.format(aliases="[yelmo, yelmitos]", data=tmp_path / "data", interval="2h"), encoding="utf-8")
        assert listener.reload_config()
        source.publish(local_post(1, "Las palomitas del yelmitos estaban frías, qué desastre de sala"))
        listener.crawl("local")
        found = listener.backend.get("local:1")
        interval = listener.scheduler.get_job("crawl:local").trigger.interval

        path.write_text("competitors: [{aliases: [x]}]\n", encoding="utf-8")  # a file that no longer loads
        assert not listener.reload_config()
        kept = listener.config.competitors[0].aliases
    finally:
        listener.stop()
    assert [(m.entity, m.text) for m in found.analysis.mentions] == [("Yelmo Cines", "yelmitos")]
    assert interval == timedelta(hours=2)
    assert kept == ["yelmo", "yelmitos"]
