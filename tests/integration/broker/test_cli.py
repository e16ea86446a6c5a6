"""`pystreams topics|produce|consume|groups` against our broker, and the one-line error when no
broker answers."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pystreams.cli.app import app

from tests.integration.broker._clients import unique

pytestmark = pytest.mark.integration


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def test_topics_produce_consume_groups(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    topic, group = unique("cli"), unique("cli-g")
    r = _run("topics", "create", topic, "-p", "2", "-c", "retention.ms=60000", "-b", bs)
    assert r.exit_code == 0, r.output
    listed = json.loads(_run("topics", "list", "--json", "-b", bs).stdout)
    assert {"topic": topic, "partitions": 2} in listed
    r = _run("produce", topic, "-K", ":", "-b", bs, input="a:1\nb:2\nc:3\n")
    assert r.exit_code == 0 and "Produced 3" in r.stdout, r.output
    r = _run("consume", topic, "--from-beginning", "--max", "3", "--group", group, "--json",
             "--timeout", "10", "-b", bs)
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted((x["key"], x["value"]) for x in records) == [("a", "1"), ("b", "2"), ("c", "3")]
    r = _run("consume", topic, "--from-beginning", "--max", "3", "--timeout", "10", "-b", bs)
    assert r.exit_code == 0 and sorted(r.stdout.split()) == ["1", "2", "3"], r.output
    described = json.loads(_run("topics", "describe", topic, "--json", "-b", bs).stdout)
    assert described["configs"] == {"retention.ms": "60000"}
    assert sum(p["high_watermark"] for p in described["partitions"]) == 3
    groups = json.loads(_run("groups", "list", "--json", "-b", bs).stdout)
    assert any(g["group"] == group for g in groups)
    assert not any(g["group"].startswith("pystreams-cli") for g in groups)  # no-group reads
    info = json.loads(_run("groups", "describe", group, "--json", "-b", bs).stdout)
    assert sum(o["committed"] for o in info["offsets"]) == 3
    r = _run("groups", "reset-offsets", group, "--topic", topic, "--to", "earliest", "--json",
             "-b", bs)
    assert r.exit_code == 0 and json.loads(r.stdout)["offsets"] == {"0": 0, "1": 0}
    assert _run("topics", "delete", topic, "-b", bs).exit_code == 0
    assert topic not in {t["topic"] for t in json.loads(_run("topics", "list", "--json", "-b", bs).stdout)}


def test_errors_are_one_line(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    r = _run("topics", "create", unique("bad"), "-p", "0", "-b", bs)
    assert r.exit_code == 1
    assert r.output.strip() == "error: Number of partitions was set to an invalid non-positive value."


def test_no_broker_reachable():
    r = _run("topics", "list", "-b", "127.0.0.1:1")
    assert r.exit_code == 1
    assert r.output.strip() == "error: no broker reachable at 127.0.0.1:1"


def test_a_missing_topic_is_an_error_and_is_not_created(kafka_broker):
    """Both brokers auto-create topics (auto.create.topics.enable=true, Kafka's default): asking about a mistyped
    topic must not create it, as a metadata request naming the topic would."""
    bs = kafka_broker.bootstrap_servers
    missing = unique("missing")
    for args in (("topics", "describe", missing), ("consume", missing, "--max", "1", "--timeout", "1"),
                 ("groups", "reset-offsets", unique("g"), "--topic", missing)):
        r = _run(*args, "-b", bs)
        assert r.exit_code == 1, (args, r.output)
        assert r.output.strip() == f"error: topic {missing} does not exist (`pystreams topics list` shows the topics)"
    listed = {t["topic"] for t in json.loads(_run("topics", "list", "--json", "-b", bs).stdout)}
    assert missing not in listed
