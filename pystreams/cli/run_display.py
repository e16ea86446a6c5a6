"""What `pystreams run` shows while it runs: the live summary line and the changelog restore progress.

On a terminal (stderr a tty) one rich Live region at the bottom of stderr holds the restore bars (while a restore
runs) and the summary line, redrawn in place; everything the app writes meanwhile (a `print()` or
`KStream.print(Printed.to_sys_out())` on stdout when stdout is the same terminal, warnings and log lines on stderr)
is printed above that region, so results scroll by and the summary stays the last line. Elsewhere (logs, pipes,
`--instances` children, which share one terminal) the summary and restore progress are plain lines, one per
interval / restored batch, which tests and log collectors read.
"""
from __future__ import annotations

import io
import os
import re
import sys
import threading
import time
from typing import Any, TextIO


class _LinesAbove(io.TextIOBase):
    """A text stream whose complete lines are printed above the live region (partial lines wait for their end).

    Partial lines are kept per writing thread: print() writes its text and its newline in two calls, so stream
    threads printing at once would otherwise glue their lines together ("a, 1b, 2" then an empty line)."""

    def __init__(self, display: LiveDisplay, original: TextIO) -> None:
        super().__init__()
        self._display, self._original = display, original
        self._lock = threading.Lock()
        self._pending: dict[int, str] = {}

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        thread = threading.get_ident()
        with self._lock:
            pending = self._pending.pop(thread, "") + text
            if "\n" in pending:
                done, _, pending = pending.rpartition("\n")
                self._display.print_above(done)
            if pending:
                self._pending[thread] = pending
        return len(text)

    def flush_pending(self) -> None:
        with self._lock:
            for pending in self._pending.values():
                self._display.print_above(pending)
            self._pending.clear()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._original, "encoding", None) or "utf-8"


class LiveDisplay:
    """The bottom-of-terminal region of `pystreams run`: restore bars and the summary line, with the app's own
    output printed above them (stdout only when it is the same terminal as stderr; else it stays where it goes)."""

    def __init__(self, stream: TextIO | None = None, *, capture_stdout: bool | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.stream = stream if stream is not None else sys.stderr
        self.console = Console(file=self.stream, force_terminal=True, highlight=False, soft_wrap=True)
        self.capture_stdout = same_terminal(sys.stdout, self.stream) if capture_stdout is None else capture_stdout
        #: the restore bars' bookkeeping and columns; drawn inside this display's Live, never started itself
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]:>18}"), TimeElapsedColumn(),
                                 console=self.console, auto_refresh=False)
        self.summary = ""
        self._live: Any = None
        self._saved: tuple[TextIO, TextIO] | None = None
        self._proxies: list[_LinesAbove] = []

    @classmethod
    def for_this_process(cls) -> LiveDisplay | None:
        """A display when stderr is a terminal this process has to itself; None otherwise (plain lines)."""
        if os.environ.get("PYSTREAMS_INSTANCE") is not None or not _isatty(sys.stderr):
            return None
        return cls()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        parts: list[Any] = []
        if self.progress.tasks:
            parts.append(self.progress.make_tasks_table(self.progress.tasks))
        if self.summary:
            parts.append(Text(self.summary, no_wrap=True, overflow="ellipsis"))
        return Group(*parts)

    def start(self) -> None:
        """Draw the region and send sys.stderr (and sys.stdout when on the same terminal) above it."""
        from rich.live import Live

        self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4,
                          transient=False, redirect_stdout=False, redirect_stderr=False)
        self._live.start()
        self._saved = (sys.stdout, sys.stderr)
        err = _LinesAbove(self, self._saved[1])
        self._proxies = [err]
        sys.stderr = err  # type: ignore[assignment]
        if self.capture_stdout:
            out = _LinesAbove(self, self._saved[0])
            self._proxies.append(out)
            sys.stdout = out  # type: ignore[assignment]

    def stop(self) -> None:
        """Leave the last summary line on screen and give sys.stdout / sys.stderr back."""
        for proxy in self._proxies:
            proxy.flush_pending()
        if self._saved is not None:
            sys.stdout, sys.stderr = self._saved
            self._saved = None
        if self._live is not None:
            self._live.stop()
            self._live = None

    def set_summary(self, text: str) -> None:
        self.summary = text

    def print_above(self, text: str) -> None:
        """One or more lines (ANSI colours kept) above the live region."""
        from rich.text import Text

        self.console.print(Text.from_ansi(text), soft_wrap=True)

    def print_renderable(self, renderable: Any) -> None:
        self.console.print(renderable)


def _short(thread: str) -> str:
    """A stream thread's name without its client id (<application.id>-<uuid>-StreamThread-1 -> StreamThread-1)."""
    match = re.search(r"(?:Global)?StreamThread-\d+$", thread)
    return match.group(0) if match else thread


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def same_terminal(a: Any, b: Any) -> bool:
    """Whether two streams are the same terminal (then stdout may be drawn through stderr's display)."""
    if not (_isatty(a) and _isatty(b)):
        return False
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (AttributeError, OSError, ValueError):
        return False


class Summary:
    """The live one-line summary: state, records/s processed, lag, tasks, restored records. On a LiveDisplay it is
    the region's last line, redrawn; otherwise one line per interval on stderr."""

    def __init__(self, app: Any, prefix: str, interval: float, restore: Any = None,
                 display: LiveDisplay | None = None) -> None:
        self.app = app
        self.restore = restore
        self.prefix = prefix
        self.interval = interval
        self.display = display
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="pystreams-summary")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def line(self, rate: float) -> str:
        m = self.app.metrics()
        return (f"{self.prefix}{self.app.state.name:<12} {rate:>10,.0f} records/s  processed {m['process-total']:,}  "
                f"lag {m['records-lag']:,}  tasks {m['active-tasks']}  standbys {m['standby-tasks']}  "
                f"restored {m['restore-total']:,}  "
                f"commits {m['commit-total']:,}")

    def _run(self) -> None:
        last, last_t = 0, time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                now = time.monotonic()
                total = sum(t.metrics.processed for t in self.app.threads)
                rate = (total - last) / max(now - last_t, 1e-6)
                last, last_t = total, now
                text = self.line(rate)
            except Exception as e:  # noqa: BLE001 - a summary must never stop the app
                text = f"{self.prefix}(summary unavailable: {e})"
            if self.display is not None:
                self.display.set_summary(text)
            else:
                sys.stderr.write(text + "\n")
                sys.stderr.flush()


#: the shortest span between the first and the latest batch report that gives a rate worth printing
MIN_RATE_WINDOW_S = 0.01


class _Run:
    """One thread's restore as the batch reports show it: the first report's time and count, the latest ones."""

    def __init__(self, now: float, done: int) -> None:
        self.first_at, self.first_done = now, done
        self.done, self.last_at, self.reports = done, now, 1

    def report(self, now: float, done: int) -> None:
        self.done, self.last_at, self.reports = done, now, self.reports + 1

    def window(self, now: float) -> float:
        return now - self.first_at

    def rate(self, now: float) -> float | None:
        """records/s over the batches after the first (whose own duration no report gives), or None when there
        is no such batch or they took too little time to measure."""
        if self.reports < 2 or self.window(now) < MIN_RATE_WINDOW_S:
            return None
        return (self.done - self.first_done) / self.window(now)


class RestoreProgress:
    """Changelog restore progress (records done/total and records/s), called from the stream threads: a rich bar
    per stream thread on a terminal (inside the LiveDisplay when given, else its own), one line per restored batch
    otherwise. A finished restore leaves its final bar and a 'restore done' line. The listener hears of a batch
    once it is restored, so the first batch's duration is unknown: a rate counts only the records restored after
    the first report, over the time since it, and is shown only when that time is measurable (MIN_RATE_WINDOW_S);
    a restore done in one batch (or in a burst too short to time) is reported by its count alone."""

    def __init__(self, prefix: str, stream: Any = None, tty: bool | None = None,
                 display: LiveDisplay | None = None) -> None:
        self.prefix = prefix
        self.display = display
        self.stream = stream if stream is not None else (display.stream if display is not None else sys.stderr)
        self.tty = True if display is not None else (_isatty(self.stream) if tty is None else tty)
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._own_progress: Any = None  # a started rich Progress when there is no display
        self._bars: dict[str, Any] = {}

    @property
    def active(self) -> bool:
        return bool(self._runs)

    def __call__(self, thread: str, done: int, total: int) -> None:
        now = time.monotonic()
        with self._lock:
            run = self._runs.get(thread)
            if run is None or done < run.done:  # a new restore (first batch): measure from here
                run = self._runs[thread] = _Run(now, done)
            else:
                run.report(now, done)
            rate = run.rate(now)
            if self.tty:
                self._show_bar(thread, done, total, rate)
            else:
                shown = f" ({rate:,.0f} records/s)" if rate is not None else ""
                self._write(f"{self.prefix}restoring state: {done:,}/{total:,} records{shown}")
            if done >= total:
                self._finish(thread, now)

    def _write(self, line: str) -> None:
        if self.display is not None:
            self.display.print_above(line)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def _progress(self) -> Any:
        if self.display is not None:
            return self.display.progress
        if self._own_progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._own_progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                          TextColumn("{task.fields[rate]:>18}"), TimeElapsedColumn(),
                                          console=Console(file=self.stream, force_terminal=True))
            self._own_progress.start()
        return self._own_progress

    def _show_bar(self, thread: str, done: int, total: int, rate: float | None) -> None:
        progress = self._progress()
        bar = self._bars.get(thread)
        if bar is None:
            bar = self._bars[thread] = progress.add_task(f"{self.prefix}restoring {_short(thread)}", total=total,
                                                         rate="")
        shown = f"{rate:,.0f} records/s" if rate is not None else ""
        progress.update(bar, completed=done, total=max(total, done), rate=shown)

    def _finish(self, thread: str, now: float) -> None:
        run = self._runs.pop(thread)
        done, rate = run.done, run.rate(now)
        if rate is not None:
            how = (f" ({run.done - run.first_done:,} in {run.window(now):.1f} s after the first batch: "
                   f"{rate:,.0f} records/s)")
        elif run.reports == 1:
            how = " in one batch (too quick to measure a rate)"
        else:
            how = f" in {run.reports} batches within {run.window(now) * 1000:.0f} ms (too quick to measure a rate)"
        if self.tty and thread in self._bars:
            progress, bar = self._progress(), self._bars.pop(thread)
            progress.update(bar, completed=done, total=done)
            if self.display is not None:  # the finished bar stays on screen, above the region
                task = next(t for t in progress.tasks if t.id == bar)
                self.display.print_renderable(progress.make_tasks_table([task]))
                progress.remove_task(bar)
            elif not self._bars:
                self._own_progress.stop()
                self._own_progress = None
        self._write(f"{self.prefix}restore done: {done:,} records{how}")

    def tick(self, running: bool, idle: float = 1.0) -> None:
        """Close restores that went quiet once the app runs (a total may be an estimate it never reaches)."""
        if not running or not self._runs:
            return
        now = time.monotonic()
        with self._lock:
            for thread in [t for t, run in self._runs.items() if now - run.last_at >= idle]:
                self._finish(thread, now)


class InstancesView:
    """`pystreams run --instances N` on a terminal: the children write plain lines into pipes; this parent keeps
    each instance's latest summary line in its LiveDisplay (one line per instance, in instance order) and prints
    every other line (results, restore progress, messages) above them."""

    SUMMARY = re.compile(r"^\[instance (\d+)\] [A-Z_]+ +[\d,]+ records/s")

    def __init__(self, display: LiveDisplay, n: int) -> None:
        self.display = display
        self._summaries = [""] * n
        self._lock = threading.Lock()
        self._pumps: list[threading.Thread] = []

    def feed(self, line: str) -> None:
        match = self.SUMMARY.match(line)
        if match is None or int(match.group(1)) >= len(self._summaries):
            self.display.print_above(line)
            return
        with self._lock:
            self._summaries[int(match.group(1))] = line
            self.display.set_summary("\n".join(s for s in self._summaries if s))

    def pump(self, stream: Any) -> None:
        """Feed a child's pipe line by line until it closes (in a thread of its own)."""
        def run() -> None:
            for raw in stream:
                self.feed(raw.decode(errors="replace").rstrip("\r\n"))
        thread = threading.Thread(target=run, daemon=True, name="pystreams-instance-output")
        thread.start()
        self._pumps.append(thread)

    def drain(self, timeout: float = 5.0) -> None:
        """Wait for the children's last lines (their pipes close when they exit)."""
        for thread in self._pumps:
            thread.join(timeout)
