"""Smoke test of bench/streams (not a benchmark): a tiny run of the harness on our broker, so it
cannot rot. The hand-written loop and pystreams each do the count workload on 1,500 records; the
harness must see every final count and measure some latency, and the table must name both."""
from __future__ import annotations

import pytest

from bench.streams import report
from bench.streams.harness import run_one
from bench.streams.systems.specs import build_spec

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.mark.parametrize("system", ["handwritten", "pystreams"])
def test_a_tiny_count_run_completes_and_measures(pystreams_broker, tmp_path, system):
    result = run_one(build_spec, system, "count", "pystreams", pystreams_broker.bootstrap_servers,
                     records=1500, keys=50, run_dir=tmp_path, timeout=30, latency_records=60,
                     latency_rate=200, commit_interval_ms=200)
    log = (tmp_path.glob("*/process.log"))
    assert not result.error, f"{result.error}\n" + "\n".join(p.read_text()[-2000:] for p in log)
    assert result.seconds and 0 < result.seconds < 30
    assert result.rate and result.rate > 0
    assert result.cpu_seconds is not None and 0 < result.cpu_seconds < 30  # the process' CPU time at done
    assert result.latency_samples > 0 and result.p99_ms is not None and result.p99_ms >= 0
    table = report.tables([result], {"records": 1500}, {"cores": 2})
    assert f"| {system} | " in table
