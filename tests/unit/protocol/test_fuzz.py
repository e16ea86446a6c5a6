"""A bounded coverage-guided fuzzing run of the request decoder (longer runs: see
fuzz_request_decoder.py). Skipped where atheris is not installed."""
from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
pytest.importorskip("atheris")

HARNESS = Path(__file__).parent / "fuzz_request_decoder.py"


def test_request_decoder_survives_a_bounded_fuzzing_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    # Linux keeps a process's peak RSS across fork and exec, and libFuzzer's rss limit reads that
    # peak: a child of a big pytest worker starts "over" a fixed limit. Allow 1 GiB above ours.
    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    proc = subprocess.run(
        [sys.executable, str(HARNESS), str(corpus), "-max_total_time=8",
         f"-rss_limit_mb={inherited_mb + 1024}",
         "-max_len=4096", f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=120)
    crashes = list(tmp_path.glob("crash-*")) + list(tmp_path.glob("oom-*")) + list(tmp_path.glob("timeout-*"))
    assert proc.returncode == 0 and not crashes, proc.stderr[-3000:]
    assert "Done" in proc.stderr and len(list(corpus.iterdir())) > 100
