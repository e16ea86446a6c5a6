"""Printing the benchmark: one line per run, Markdown tables of records/s, p99 and pystreams' ratios."""
from __future__ import annotations

import io
import pstats
from pathlib import Path
from typing import Any

from bench.streams.harness import RunResult

OTHERS = (("quix", "Quix"), ("quix-fqb50", "Quix (fetch.queue.backoff.ms 50)"), ("faust", "Faust"),
          ("handwritten", "hand-written loop"),
          ("kafka-streams", "Kafka Streams"))


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def line(r: RunResult) -> str:
    """A one-line summary of a run for the live log."""
    if r.partial:
        return (f"{r.broker:9} {r.workload:9} {r.system:13} ~{_rate(r.rate):>7} rec/s ({r.records} records "
                f"done when stopped: {r.error}; log {r.log})")
    if r.error:
        return f"{r.broker:9} {r.workload:9} {r.system:13} FAILED: {r.error} (log {r.log})"
    return (f"{r.broker:9} {r.workload:9} {r.system:13} {_rate(r.rate):>8} rec/s in {r.seconds:6.2f} s "
            f"(first output {r.first_output or 0:5.2f} s, processing {_rate(r.processing_rate)} rec/s), "
            f"p50 {_ms(r.p50_ms)} ms p99 {_ms(r.p99_ms)} ms over {r.latency_samples} outputs; "
            + (f"CPU {r.cpu_seconds:.2f} s ({r.cpu_seconds / r.records * 1e6:.1f} us/rec); "
               if r.cpu_seconds is not None and r.records else "") +
            f"{r.outputs_read} output records in all")


def tables(results: list[RunResult], settings: dict[str, Any], machine: dict[str, Any]) -> str:
    """Markdown: per broker, a table of systems x workloads, then pystreams' ratios."""
    out = io.StringIO()
    out.write("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + "  \n")
    out.write("Settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + "\n")
    brokers = list(dict.fromkeys(r.broker for r in results))
    workloads = list(dict.fromkeys(r.workload for r in results))
    systems = list(dict.fromkeys(r.system for r in results))
    index = {(r.broker, r.workload, r.system): r for r in results}
    for broker in brokers:
        out.write(f"\n#### On the {broker} broker\n\n")
        head = "| system | " + " | ".join(f"{w} rec/s | {w} p99 ms" for w in workloads) + " |\n"
        out.write(head + "|---" * (1 + 2 * len(workloads)) + "|\n")
        for system in systems:
            cells = []
            for w in workloads:
                r = index.get((broker, w, system))
                if r is None:
                    cells += ["", ""]
                elif r.partial:
                    cells += [f"~{_rate(r.rate)} (timeout, {r.records:,} done)", "-"]
                elif r.error:
                    cells += [f"failed: {r.error}", "-"]
                else:
                    cells += [f"{_rate(r.rate)} ({_rate(r.processing_rate)})", _ms(r.p99_ms)]
            out.write(f"| {system} | " + " | ".join(cells) + " |\n")
        _cpu_table(out, broker, systems, workloads, index)
        if "pystreams" in systems:
            out.write(f"\npystreams' ratios on the {broker} broker (records/s from process start; "
                      "p99: other / pystreams, > 1 means pystreams is faster):\n\n")
            out.write("| ratio | " + " | ".join(f"{w} rec/s | {w} p99" for w in workloads) + " |\n")
            out.write("|---" * (1 + 2 * len(workloads)) + "|\n")
            for system, label in OTHERS:
                if system not in systems:
                    continue
                cells = []
                for w in workloads:
                    ours, theirs = index.get((broker, w, "pystreams")), index.get((broker, w, system))
                    approx = "~" if (ours and ours.partial) or (theirs and theirs.partial) else ""
                    rate = _ratio(ours.rate if ours else None, theirs.rate if theirs else None)
                    cells.append(approx + rate if rate != "-" else rate)
                    cells.append(_ratio(theirs.p99_ms if theirs else None, ours.p99_ms if ours else None))
                out.write(f"| pystreams / {label} | " + " | ".join(cells) + " |\n")
            for system, label in OTHERS:  # the same without start-up (first output -> done)
                if system not in systems:
                    continue
                cells = []
                for w in workloads:
                    ours, theirs = index.get((broker, w, "pystreams")), index.get((broker, w, system))
                    ok = ours and theirs and not ours.partial and not theirs.partial
                    cells += [_ratio(ours.processing_rate, theirs.processing_rate) if ok else "-", ""]
                out.write(f"| processing only: pystreams / {label} | " + " | ".join(cells) + " |\n")
    return out.getvalue()


def _cpu_table(out: io.StringIO, broker: str, systems: list[str], workloads: list[str],
               index: dict[tuple[str, str, str], RunResult]) -> None:
    """CPU time of each system's process per input record (start-up included): what the work cost, which a
    busy machine changes much less than the records/s."""
    out.write(f"\nCPU time of the system's process per input record on the {broker} broker (us, all threads, "
              "process start -> done):\n\n")
    out.write("| system | " + " | ".join(f"{w} CPU us/rec" for w in workloads) + " |\n")
    out.write("|---" * (1 + len(workloads)) + "|\n")
    for system in systems:
        cells = []
        for w in workloads:
            r = index.get((broker, w, system))
            ok = r is not None and not r.error and r.cpu_seconds is not None and r.records
            cells.append(f"{r.cpu_seconds / r.records * 1e6:.1f}" if ok else "-")  # type: ignore[union-attr,operator]
        out.write(f"| {system} | " + " | ".join(cells) + " |\n")


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def profile_summary(path: Path, top: int = 25) -> str:
    """The top functions by own time of a cProfile dump, with their share of the thread's time."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1.0  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    lines = [f"total {total:.2f} s profiled; own time, cumulative time, calls, function"]
    for (filename, lineno, name), (_cc, calls, tottime, cumtime, _callers) in rows[:top]:
        short = "/".join(Path(filename).parts[-3:]) if filename != "~" else ""
        lines.append(f"{100 * tottime / total:5.1f}% {tottime:7.2f} s {cumtime:7.2f} s {calls:>9} "
                     f"{short}:{lineno}({name})")
    return "\n".join(lines)
