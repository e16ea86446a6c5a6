"""The Java Kafka Streams oracle: its word-count topology's describe() has Kafka Streams' real
structure, and its TopologyTestDriver output over seeded random text equals a plain-Python
word-count model (issue 2's acceptance; the streams issues take expected outputs from here)."""
from __future__ import annotations

import random
import string
from typing import Any

import pytest

from tests.fixtures.streams_oracle import JavaStreams
from tests.reference.describe_text import parse_description
from tests.reference.streams_oracle import OracleInputError

pytestmark = [pytest.mark.integration, pytest.mark.reference]

NO_CACHE = {"statestore.cache.max.bytes": 0}


def random_lines(seed: int, count: int) -> list[dict[str, Any]]:
    """Records of text-input: mixed case, runs of spaces and tabs, empty and blank lines,
    timestamps that mostly rise but sometimes go back, a header naming the line."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices(string.ascii_letters, k=rng.randint(1, 6)))
                  for _ in range(40)]
    records = []
    timestamp = 1_000
    for i in range(count):
        words = rng.choices(vocabulary, k=rng.randint(0, 8))
        separators = [rng.choice([" ", "  ", "\t", " \t "]) for _ in words]
        line = rng.choice(["", " "]) + "".join(w + s for w, s in zip(words, separators))
        timestamp += rng.randint(-50, 200)
        records.append({"topic": "text-input", "key": rng.choice([None, f"k{i % 5}"]),
                        "value": line, "timestamp": timestamp, "headers": {"line": str(i)}})
    return records


def word_count_model(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every count update in input order. An aggregation's output carries the largest timestamp
    of the records it has seen for that key, and the input record's headers."""
    counts: dict[str, int] = {}
    latest: dict[str, int] = {}
    updates = []
    for record in records:
        for word in record["value"].lower().split():
            counts[word] = counts.get(word, 0) + 1
            latest[word] = max(latest.get(word, record["timestamp"]), record["timestamp"])
            updates.append({"topic": "word-counts-output", "key": word, "value": counts[word],
                            "timestamp": latest[word], "headers": record["headers"]})
    return updates


def test_wordcount_describe_has_kafka_streams_structure(java_streams: JavaStreams) -> None:
    text = java_streams.describe("wordcount")
    assert text.startswith("Topologies:\n")
    description = parse_description(text)
    assert sorted(description.subtopologies) == ["0", "1"]
    first, second = description.subtopologies["0"], description.subtopologies["1"]
    assert list(first.nodes) == ["KSTREAM-SOURCE-0000000000", "KSTREAM-FLATMAPVALUES-0000000001",
                                 "KSTREAM-KEY-SELECT-0000000002", "word-counts-repartition-filter",
                                 "word-counts-repartition-sink"]
    assert list(second.nodes) == ["word-counts-repartition-source", "KSTREAM-AGGREGATE-0000000003",
                                  "KTABLE-TOSTREAM-0000000007", "KSTREAM-SINK-0000000008"]
    assert first.nodes["KSTREAM-SOURCE-0000000000"].topics == ["text-input"]
    assert first.nodes["word-counts-repartition-sink"].topics == ["word-counts-repartition"]
    assert second.nodes["word-counts-repartition-source"].topics == ["word-counts-repartition"]
    assert second.nodes["KSTREAM-AGGREGATE-0000000003"].stores == ["word-counts"]
    assert second.nodes["KSTREAM-SINK-0000000008"].topics == ["word-counts-output"]
    # a chain: each node's successor is the next node, and the edges agree both ways
    for sub in (first, second):
        names = list(sub.nodes)
        for before, after in zip(names, names[1:]):
            assert sub.nodes[before].successors == [after]
            assert sub.nodes[after].predecessors == [before]
    assert [n.kind for n in first.nodes.values()] == ["Source", "Processor", "Processor",
                                                      "Processor", "Sink"]


def test_wordcount_driver_matches_python_model_update_by_update(java_streams: JavaStreams) -> None:
    records = random_lines(seed=20260427, count=300)
    expected = word_count_model(records)
    assert len(expected) > 500  # the input really exercises the topology
    assert java_streams.drive("wordcount", records, NO_CACHE) == expected


def test_wordcount_driver_with_default_cache_ends_at_the_same_counts_and_store(
        java_streams: JavaStreams) -> None:
    records = random_lines(seed=7, count=200)
    *output, store = java_streams.drive("wordcount", [*records, {"read_store": "word-counts"}])
    final: dict[str, int] = {}
    for update in output:
        assert update["value"] > final.get(update["key"], 0)  # counts only grow
        final[update["key"]] = update["value"]
    model = word_count_model(records)
    model_final = {u["key"]: u["value"] for u in model}
    assert final == model_final
    # the store iterates in key-byte order and keeps each count's timestamp
    latest = {u["key"]: u["timestamp"] for u in model}
    assert store == {"store": "word-counts", "entries": [
        {"key": word, "value": model_final[word], "timestamp": latest[word]}
        for word in sorted(model_final, key=str.encode)]}


def test_oracle_commands_and_bad_input(java_streams: JavaStreams) -> None:
    assert "wordcount" in java_streams.names()
    assert java_streams.topics("wordcount") == {
        "inputs": [{"topic": "text-input", "key": "string", "value": "string"}],
        "outputs": [{"topic": "word-counts-output", "key": "string", "value": "long"}]}
    records = [{"topic": "text-input", "value": "a a"}, {"advance_wall_clock_ms": 60_000},
               {"topic": "text-input", "value": "A", "timestamp": 9}]
    assert [(r["key"], r["value"], r["timestamp"]) for r in
            java_streams.drive("wordcount", records, NO_CACHE)] == [("a", 1, 0), ("a", 2, 0),
                                                                   ("a", 3, 9)]
    with pytest.raises(OracleInputError, match="no topology named 'nope'"):
        java_streams.describe("nope")
    with pytest.raises(OracleInputError, match="not an input of wordcount"):
        java_streams.drive("wordcount", [{"topic": "elsewhere", "value": "x"}])
    with pytest.raises(OracleInputError, match="expected JSON for string"):
        java_streams.drive("wordcount", [{"topic": "text-input", "value": 5}])


def test_output_order_global_interleaves_topics_as_produced(java_streams: JavaStreams) -> None:
    rng = random.Random(11)
    lines = [" ".join(rng.choices(["apple", "Zebra", "bee", "yak", "mango", "nut"], k=5))
             for _ in range(20)]
    records = [{"topic": "words-input", "key": f"k{i}", "value": line, "timestamp": i}
               for i, line in enumerate(lines)]

    def routed(word: str) -> str:
        return "words-low" if word[0] <= "m" else "words-high"

    produced = [[(routed(w), w) for w in line.lower().split()] for line in lines]
    as_produced = [pair for step in produced for pair in step]
    per_topic = [pair for step in produced
                 for topic in ("words-low", "words-high") for pair in step if pair[0] == topic]
    assert as_produced != per_topic  # the input really interleaves the two topics

    def pairs(config: dict[str, Any] | None) -> list[tuple[str, str]]:
        return [(r["topic"], r["value"]) for r in java_streams.drive("splitwords", records, config)]

    assert pairs({"oracle.output.order": "global"}) == as_produced
    assert pairs(None) == per_topic
    with pytest.raises(OracleInputError, match="topic or global"):
        java_streams.drive("splitwords", records, {"oracle.output.order": "random"})
