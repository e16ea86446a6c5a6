"""issue 7's targets from the JSON of one or more `bench.streams.run --json` files, as one Markdown table.

    .venv/bin/python -m bench.streams.targets RUN.json [RUN.json ...]

Per (records, broker, other system): pystreams' records/s ratio per workload, from process start and (in
brackets) first output -> done; then pystreams' own processing rate per workload against the per-process
targets (>= 150k rec/s stateless, >= 100k stateful). Targets: >= 3x Quix, >= 10x Faust, >= 0.6x the loop.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OTHERS = (("quix", "Quix", 3.0), ("quix-fqb50", "Quix (fetch.queue.backoff.ms 50)", 3.0), ("faust", "Faust", 10.0),
          ("handwritten", "loop", 0.6), ("kafka-streams", "Kafka Streams", None))
WORKLOADS = ("stateless", "count", "window")
PER_PROCESS = {"stateless": 150_000, "count": 100_000, "window": 100_000}


def _ratio(ours: dict[str, Any] | None, theirs: dict[str, Any] | None, key: str) -> float | None:
    for r in (ours, theirs):
        if not r or (r.get("error") and not r.get("partial")):
            return None
    assert ours is not None and theirs is not None
    a, b = ours.get(key), theirs.get(key)
    if key == "processing_rate" and (ours.get("partial") or theirs.get("partial")):
        return None
    return a / b if a and b else None


def table(rows: list[dict[str, Any]]) -> str:
    runs = sorted({(r["_n"], r["broker"]) for r in rows}, key=lambda t: (t[0], t[1] != "pystreams"))
    out = ["| pystreams / | records | broker | " + " | ".join(WORKLOADS) + " |",
           "|---|---|---|" + "---|" * len(WORKLOADS)]
    by = {(r["_n"], r["broker"], r["workload"], r["system"]): r for r in rows}
    for system, label, target in OTHERS:
        for n, broker in runs:
            if not any((n, broker, w, system) in by for w in WORKLOADS):
                continue
            cells = []
            for w in WORKLOADS:
                ours, theirs = by.get((n, broker, w, "pystreams")), by.get((n, broker, w, system))
                start, proc = _ratio(ours, theirs, "rate"), _ratio(ours, theirs, "processing_rate")
                approx = "~" if (ours and ours.get("partial")) or (theirs and theirs.get("partial")) else ""
                if start is None:
                    cells.append("-")
                    continue
                met = "" if target is None else (" met" if start >= target else " not met")
                cells.append(f"{approx}{start:.2f}x" + (f" ({proc:.2f}x)" if proc else "") + met)
            out.append(f"| {label} | {n:,} | {broker} | " + " | ".join(cells) + " |")
    out += ["", "| pystreams processing rate (first output -> done) | records | broker | "
            + " | ".join(WORKLOADS) + " |", "|---|---|---|" + "---|" * len(WORKLOADS)]
    for n, broker in runs:
        cells = []
        for w in WORKLOADS:
            r = by.get((n, broker, w, "pystreams"))
            rate = r.get("processing_rate") if r else None
            cells.append("-" if not rate else f"{rate:,.0f} ({'met' if rate >= PER_PROCESS[w] else 'not met'}, "
                                              f"target {PER_PROCESS[w] // 1000}k)")
        out.append(f"| per process | {n:,} | {broker} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    rows: list[dict[str, Any]] = []
    for path in argv:
        loaded = json.loads(Path(path).read_text())
        n = max((r["records"] for r in loaded if not r.get("partial")), default=0)
        for r in loaded:
            r["_n"] = n  # the run's record count (a timed-out row holds the records done so far)
        rows += loaded
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
