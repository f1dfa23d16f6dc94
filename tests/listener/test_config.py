import pytest

from listener.config import load_config, parse_config, parse_duration
from listener.errors import ConfigError

ISSUE_EXAMPLE = """\
brand:  {name: Cinesa, aliases: [cinesa], handles: ["@cinesa"], hashtags: ["#Cinesa"]}
competitors:
  - {name: Yelmo Cines, aliases: [yelmo cines, yelmo], handles: ["@yelmocines"], hashtags: []}
sector: {keywords: [cine, entradas, película]}
languages: [es, ca, en, pt]
"""


def test_the_documented_example_is_valid():
    config = parse_config(ISSUE_EXAMPLE)
    assert config.brand.handles == ["@cinesa"]
    assert [c.name for c in config.competitors] == ["Yelmo Cines"]
    assert config.index.backend == "sqlite"


def test_an_empty_file_gives_working_defaults():
    config = parse_config("")
    assert config.brand.name and config.schedule.sla_minutes == 60


def test_unknown_key_names_file_line_and_valid_keys():
    text = ISSUE_EXAMPLE + "index:\n  backend: sqlite\n  colour: blue\n"
    with pytest.raises(ConfigError) as error:
        parse_config(text, "brand.yaml")
    message = str(error.value)
    assert "brand.yaml, line 8" in message
    assert "unknown key 'index.colour'" in message
    assert "backend" in message  # lists the valid keys


def test_wrong_type_names_the_key_expected_and_found():
    text = "brand:\n  name: Cinesa\n  aliases: 42\n"
    with pytest.raises(ConfigError) as error:
        parse_config(text, "c.yaml")
    assert "c.yaml, line 3: brand.aliases" in str(error.value)
    assert "list" in str(error.value) and "42" in str(error.value)


def test_missing_required_key_is_named():
    with pytest.raises(ConfigError, match=r"competitors\[0\].name: missing required key"):
        parse_config("competitors:\n  - {aliases: [x]}\n")


def test_an_empty_name_is_refused_and_each_mistake_is_listed_by_key():
    with pytest.raises(ConfigError) as error:
        parse_config("brand: {name: '  '}\nsources:\n  - {kind: rss, interval: abc}\n", "c.yaml")
    assert "c.yaml, line 1: brand.name: expected the name people know it by, found an empty one" in str(error.value)
    assert error.value.problems == (
        ("brand.name", "expected the name people know it by, found an empty one"),
        ("sources[0].interval", "expected a duration like 30s, 5m, 1h or 2d, found 'abc'"),
    )


def test_invalid_yaml_names_the_line():
    with pytest.raises(ConfigError, match=r"line 2: not valid YAML"):
        parse_config("brand:\n\tname: x\n")


def test_handles_and_hashtags_get_their_prefix():
    config = parse_config("brand: {name: X, handles: [xbank], hashtags: [XBank]}")
    assert config.brand.handles == ["@xbank"] and config.brand.hashtags == ["#XBank"]


def test_unknown_time_zone_is_refused():
    with pytest.raises(ConfigError, match="IANA time zone"):
        parse_config("schedule: {timezone: Mars/Olympus}")


def test_source_durations_accept_units():
    config = parse_config("sources:\n  - {kind: rss, interval: 5m, backfill: 2d}\n")
    assert config.sources[0].interval == 300 and config.sources[0].backfill == 172800


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("5m", 300), ("1h", 3600), ("1.5h", 5400), (90, 90)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_missing_file_suggests_init(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "nope.yaml")
    assert "no such configuration file" in str(error.value)
    assert "listener init" in error.value.hint


def test_data_dir_can_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LISTENER_DATA_DIR", str(tmp_path))
    assert parse_config("").data_path("x.db") == tmp_path / "x.db"


def test_recheck_ages_and_the_age_they_stop_at_accept_units():
    config = parse_config("schedule: {recheck: [10m, 1h], recheck_max_age: 3d, recheck_lookups: 50}")
    assert (config.schedule.recheck, config.schedule.recheck_max_age, config.schedule.recheck_lookups) == (
        [600, 3600], 259200, 50)


def test_recheck_ages_that_do_not_grow_are_refused_with_the_line():
    with pytest.raises(ConfigError, match=r"c.yaml, line 2: schedule.recheck: expected growing ages"):
        parse_config("schedule:\n  recheck: [1h, 10m]\n", "c.yaml")


def test_an_empty_list_of_elasticsearch_nodes_is_refused_by_its_key():
    with pytest.raises(ConfigError) as error:
        parse_config("index:\n  backend: elasticsearch\n  url: []\n", "c.yaml")
    assert "index.url" in str(error.value) and "empty list" in str(error.value)


def test_elasticsearch_shards_replicas_and_rollover_come_from_the_index_section():
    config = parse_config("index: {shards: 3, replicas: 1, rollover: {max_age: 7d, max_docs: 1000000, max_primary_shard_size: 20GB}}\n")
    assert (config.index.shards, config.index.replicas) == (3, 1)
    assert config.index.rollover.conditions == {"max_age": "7d", "max_docs": 1000000, "max_primary_shard_size": "20gb", "min_docs": 1}
    assert parse_config("").index.rollover.conditions == {"max_age": "30d", "max_primary_shard_size": "50gb", "min_docs": 1}
    assert parse_config("index: {rollover: {max_age: null, max_primary_shard_size: null}}\n").index.rollover.conditions == {}


@pytest.mark.parametrize("section, named", [
    ("{shards: 0}", "index.shards"),
    ("{replicas: -1}", "index.replicas"),
    ("{rollover: {max_age: 30}}", "index.rollover.max_age"),
    ("{rollover: {max_primary_shard_size: big}}", "index.rollover.max_primary_shard_size"),
    ("{rollover: {max_docs: 0}}", "index.rollover.max_docs"),
])
def test_bad_shards_replicas_or_rollover_are_named(section, named):
    with pytest.raises(ConfigError, match=rf"c.yaml, line 1: {named}"):
        parse_config(f"index: {section}\n", "c.yaml")


def test_the_ui_section_chooses_the_web_apps_language_and_time_zone():
    config = parse_config("ui:\n  language: ca\n  timezone: Atlantic/Canary\n", "brand.yaml")
    assert (config.ui.language, config.ui_timezone) == ("ca", "Atlantic/Canary")
    default = parse_config("schedule: {timezone: Europe/Lisbon}\n")
    assert default.ui.language is None and default.ui_timezone == "Europe/Lisbon"  # the browser decides; the team's zone


def test_a_ui_language_that_is_not_offered_names_the_key_and_the_choices():
    with pytest.raises(ConfigError) as error:
        parse_config("brand: {name: Cinesa}\nui:\n  language: fr\n", "brand.yaml")
    assert str(error.value) == ("brand.yaml, line 3: ui.language: expected one of es, ca, en "
                                "(or leave it out to follow the browser), found 'fr'")
    with pytest.raises(ConfigError, match=r"brand.yaml, line 2: ui.timezone: expected an IANA time zone like Europe/Madrid, found 'Madrid'"):
        parse_config("ui:\n  timezone: Madrid\n", "brand.yaml")
    with pytest.raises(ConfigError, match=r"unknown key 'ui.lang' \(valid keys: language, timezone\)"):
        parse_config("ui: {lang: es}\n", "brand.yaml")
