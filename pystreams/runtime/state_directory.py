"""The application's state directory as Kafka's StateDirectory keeps it: one live instance per directory, user
clean-up, and the periodic removal of task directories this instance no longer owns.

- lock(): an exclusive flock on `<state.dir>/<application.id>/.lock`, held from start() until the client has
  stopped. Kafka takes it in StateDirectory.initializeProcessId when the topology has persistent stores and
  refuses a second instance ("Unable to initialize state, this can happen if multiple instances of Kafka Streams
  are running in the same state directory"); a flock is per open file, so a second KafkaStreams in the same
  process is refused too (Java's OverlappingFileLockException counts as "locked" there).
- clean(): KafkaStreams.cleanUp(): deletes the task directories and the global state directory, then the whole
  application directory when nothing in it is held by a live instance (Kafka keeps its process-id file there).
- clean_removed_tasks(delay): KafkaStreams' state-dir cleaner (every state.cleanup.delay.ms while RUNNING):
  a task directory whose lock nobody holds (no live task or standby of any thread or process) and that was not
  modified for delay ms is deleted.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

from pystreams.errors import PystreamsError
from pystreams.runtime.checkpoint import TaskDirLock

log = logging.getLogger("pystreams.runtime")

#: Kafka's StateDirectory.LOCK_FILE_NAME, in the application's directory
APP_LOCK_FILE = ".lock"
#: Kafka's TASK_DIR_PATH_NAME: `<subtopology>_<partition>` (named topologies are not supported here)
_TASK_DIR = re.compile(r"\d+_\d+")


class StateDirectoryLockedError(PystreamsError):
    """Another live KafkaStreams (this process or another) uses the same state directory for this application."""


class StateDirectoryError(PystreamsError):
    """state.dir cannot be used (Kafka's ProcessorStateException from the StateDirectory constructor): it cannot
    be created, is a regular file, or is not writable. Raised when KafkaStreams is constructed, before anything
    starts."""


def ensure_state_dir(state_dir: str, application_id: str, create: bool) -> None:
    """Kafka's StateDirectory constructor checks, at `KafkaStreams(...)` time (audit s7 H8). With create (the
    topology has persistent stores, as in Kafka) `<state.dir>/<application.id>` is made now; without, nothing is
    made, but a path that could not be made at start() is refused the same way. StateDirectoryError carries
    Kafka's wording plus the OS's reason."""
    app_dir = os.path.join(state_dir, application_id)
    for path, what in ((state_dir, "base state directory"), (app_dir, "state directory")):
        if os.path.isdir(path):
            if path == app_dir and not os.access(path, os.W_OK | os.X_OK):
                raise StateDirectoryError(f"{what} [{path}] is not writable: {os.strerror(errno.EACCES)}")
            continue
        if os.path.exists(path):
            if path == app_dir:
                raise StateDirectoryError(f"{what} [{path}] can't be created as there is an existing file with "
                                          f"the same name")
            continue  # a file as state.dir: Kafka's check of the application directory below reports it
        try:
            if create:
                os.makedirs(path, exist_ok=True)
            else:
                _check_creatable(path)
                return  # its parent can hold it: nothing below it can be checked without making it
        except OSError as exc:
            raise StateDirectoryError(f"{what} [{path}] doesn't exist and couldn't be created: "
                                      f"{exc.strerror or exc}") from None


def _check_creatable(path: str) -> None:
    """OSError (as makedirs would raise) unless the nearest existing ancestor of path is a writable directory."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), parent)


def has_persistent_stores(topology: Any) -> bool:
    """Whether any (local or global) store of topology keeps its data on disk (Kafka's
    TopologyMetadata.hasPersistentStores): only then is the state directory locked."""
    builders = list(_builders(topology, "store_builders")) + list(_builders(topology, "global_store_builders"))
    for builder in builders:
        supplier = getattr(builder, "supplier", None)
        if bool(getattr(supplier, "persistent", getattr(builder, "persistent", False))):
            return True
    return False


def _builders(topology: Any, name: str) -> Any:
    get = getattr(topology, name, None)
    return get().values() if callable(get) else ()


class StateDirectory:
    """`<state.dir>/<application.id>`: its lock, clean-up and removal of obsolete task directories."""

    def __init__(self, state_dir: str, application_id: str) -> None:
        self.app_dir = os.path.join(state_dir, application_id)
        self._lock = TaskDirLock(self.app_dir, lock_name=APP_LOCK_FILE)

    @property
    def locked(self) -> bool:
        return self._lock.locked

    def lock(self) -> None:
        """Claim the directory for this instance, or StateDirectoryLockedError when another live one has it."""
        try:
            locked = self._lock.try_lock()
        except OSError as exc:  # the directory went away or became unusable since KafkaStreams was made
            raise StateDirectoryError(f"state directory [{self.app_dir}] doesn't exist and couldn't be created: "
                                      f"{exc.strerror or exc}") from None
        if not locked:
            raise StateDirectoryLockedError(
                f"Unable to initialize state, this can happen if multiple instances of Kafka Streams are running "
                f"in the same state directory (current state directory is [{self.app_dir}]): another live "
                "KafkaStreams (in this or another process) uses it; give each instance its own state.dir")

    def unlock(self) -> None:
        self._lock.unlock()

    def task_dirs(self) -> list[str]:
        """Paths of the task directories (`<subtopology>_<partition>`) under the application directory."""
        try:
            names = sorted(os.listdir(self.app_dir))
        except FileNotFoundError:
            return []
        return [os.path.join(self.app_dir, n) for n in names
                if _TASK_DIR.fullmatch(n) and os.path.isdir(os.path.join(self.app_dir, n))]

    def clean(self) -> list[str]:
        """KafkaStreams.cleanUp(): delete every task directory and the global state directory (then the whole
        application directory if nothing was kept); returns the deleted task/global paths. Refused (StateDirectoryLockedError) while another live instance holds the directory; a task
        directory whose lock a live task holds (an instance without persistent stores takes no directory lock)
        is kept, with a warning."""
        held_here = self.locked
        if not held_here:
            self.lock()
        deleted: list[str] = []
        try:
            for task_dir in self.task_dirs():
                lock = TaskDirLock(task_dir)
                if not lock.try_lock():
                    log.warning("cleanup: task directory %s is locked by a live task of another instance: kept",
                                task_dir)
                    continue
                try:
                    log.info("Deleting task directory %s as user calling cleanup.", task_dir)
                    shutil.rmtree(task_dir, ignore_errors=True)
                    deleted.append(task_dir)
                finally:
                    lock.unlock()
            global_dir = os.path.join(self.app_dir, "global")
            if os.path.isdir(global_dir):
                lock = TaskDirLock(global_dir)
                if lock.try_lock():
                    try:
                        shutil.rmtree(global_dir, ignore_errors=True)
                        deleted.append(global_dir)
                    finally:
                        lock.unlock()
                else:
                    log.warning("cleanup: global state directory %s is in use by a live instance: kept", global_dir)
            if not self.task_dirs() and not os.path.isdir(global_dir):
                # nothing of a live instance is left: the directory goes as a whole (pystreams' cleanup() always
                # removed it; Kafka keeps its process-id file and .lock, so a restart keeps its process id)
                shutil.rmtree(self.app_dir, ignore_errors=True)
        finally:
            if not held_here:
                self.unlock()
        return deleted

    def clean_removed_tasks(self, cleanup_delay_ms: int, now_ms: float | None = None) -> list[str]:
        """Delete task directories nobody holds the lock of and that were not modified for cleanup_delay_ms
        (Kafka's StateDirectory.cleanRemovedTasks); returns the deleted paths. A directory a task or standby of
        this or another instance holds stays, however old."""
        now = time.time() * 1000 if now_ms is None else now_ms
        deleted: list[str] = []
        for task_dir in self.task_dirs():
            try:
                modified = os.stat(task_dir).st_mtime * 1000
            except FileNotFoundError:
                continue
            if now - cleanup_delay_ms <= modified:
                continue
            lock = TaskDirLock(task_dir)
            try:
                if not lock.try_lock():
                    continue  # a live task or standby (this process or another) owns it
            except OSError:
                continue  # removed meanwhile
            try:
                log.info("Deleting obsolete state directory %s as %d ms has elapsed (cleanup delay is %d ms).",
                         os.path.basename(task_dir), now - modified, cleanup_delay_ms)
                shutil.rmtree(task_dir, ignore_errors=True)
                deleted.append(task_dir)
            finally:
                lock.unlock()
        return deleted


class StateDirCleaner:
    """KafkaStreams' stateDirCleaner: clean_removed_tasks(delay) every delay ms while `active()` (RUNNING)."""

    def __init__(self, directory: StateDirectory, cleanup_delay_ms: int, active: Callable[[], bool],
                 name: str = "state-dir-cleaner") -> None:
        self.directory = directory
        self.delay_ms = cleanup_delay_ms
        self.active = active
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        interval = max(self.delay_ms, 1) / 1000
        while not self._stop.wait(interval):
            if not self.active():
                continue
            try:
                self.directory.clean_removed_tasks(self.delay_ms)
            except Exception:  # Kafka swallows what the cleaner hits; the next round retries
                log.exception("state directory cleaner failed")

    def stop(self, wait: bool = True) -> None:
        """Stop the periodic clean-up (Kafka: stateDirCleaner.shutdownNow() first thing in close); wait: also
        let a round under way finish (up to 10 s)."""
        self._stop.set()
        if wait and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(10)
