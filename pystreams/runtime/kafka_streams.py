"""KafkaStreams: the client that runs a Topology against Kafka (or the pystreams broker).

State machine, listener and uncaught-exception handling follow Kafka Streams: CREATED -> REBALANCING <-> RUNNING
-> PENDING_SHUTDOWN -> NOT_RUNNING, and PENDING_ERROR -> ERROR when threads die and the handler shuts the client.
SHUTDOWN_APPLICATION: the client puts SHUTDOWN_REQUESTED in its subscription and its threads rejoin; the leader's
assignor then answers every member with SHUTDOWN_REQUESTED, and every instance goes PENDING_ERROR -> ERROR.
"""
from __future__ import annotations

import collections
import contextlib
import enum
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from confluent_kafka.admin import AdminClient

from pystreams.errors import ConfigError, PystreamsError
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.gc_policy import apply_gc_policy
from pystreams.runtime.interactive_queries import InteractiveQueries
from pystreams.runtime.restore_listeners import (
    DelegatingStandbyUpdateListener,
    DelegatingStateRestoreListener,
    StandbyUpdateListener,
    StateRestoreListener,
)
from pystreams.runtime.state_directory import (
    StateDirCleaner,
    StateDirectory,
    ensure_state_dir,
    has_persistent_stores,
)
from pystreams.runtime.thread_admin import CloseOptions as _CloseOptions
from pystreams.runtime.thread_admin import (
    GroupMembershipOperation,
    ThreadMetadata,
    seconds_of,
)
from pystreams.runtime.topics import TopologyPlan, ensure_internal_topics, plan_topology

log = logging.getLogger("pystreams.runtime")


class State(enum.Enum):
    """KafkaStreams.State, with Kafka's allowed transitions."""

    CREATED = "CREATED"
    REBALANCING = "REBALANCING"
    RUNNING = "RUNNING"
    PENDING_SHUTDOWN = "PENDING_SHUTDOWN"
    NOT_RUNNING = "NOT_RUNNING"
    PENDING_ERROR = "PENDING_ERROR"
    ERROR = "ERROR"

    def is_running_or_rebalancing(self) -> bool:
        return self in (State.RUNNING, State.REBALANCING)


_TRANSITIONS: dict[State, set[State]] = {
    State.CREATED: {State.REBALANCING, State.PENDING_SHUTDOWN, State.PENDING_ERROR},
    State.REBALANCING: {State.RUNNING, State.REBALANCING, State.PENDING_SHUTDOWN, State.PENDING_ERROR},
    State.RUNNING: {State.REBALANCING, State.PENDING_SHUTDOWN, State.PENDING_ERROR},
    State.PENDING_SHUTDOWN: {State.NOT_RUNNING},
    State.NOT_RUNNING: set(),
    State.PENDING_ERROR: {State.ERROR},
    State.ERROR: set(),
}


class StreamThreadExceptionResponse(enum.Enum):
    """What an uncaught-exception handler asks for (Kafka's StreamsUncaughtExceptionHandler responses)."""

    REPLACE_THREAD = "REPLACE_THREAD"
    SHUTDOWN_CLIENT = "SHUTDOWN_CLIENT"
    SHUTDOWN_APPLICATION = "SHUTDOWN_APPLICATION"


class IllegalStateError(PystreamsError):
    """Kafka's IllegalStateException: e.g. start() twice, or cleanup() while running."""


StateListener = Callable[[State, State], None]  # (new_state, old_state), Kafka's argument order
ExceptionHandler = Callable[[BaseException], StreamThreadExceptionResponse]


def _forever(timeout: float | None) -> float:
    return float("inf") if timeout is None else max(0.0, timeout)



#: reasons start() is refused right now, innermost last (refusing_start: `pystreams run` while it imports a script)
_START_REFUSED: list[str] = []


@contextlib.contextmanager
def refusing_start(reason: str) -> Iterator[None]:
    """While the block runs, KafkaStreams.start() raises IllegalStateError(reason) before touching anything: a runner
    that imports a user's script (`pystreams run`) starts the app itself, with its own config."""
    _START_REFUSED.append(reason)
    try:
        yield
    finally:
        _START_REFUSED.remove(reason)


class KafkaStreams(InteractiveQueries):
    """Runs a Topology with Kafka Streams' config keys; start(), close(), state listener, cleanup()."""

    CloseOptions = _CloseOptions  # Kafka's KafkaStreams.CloseOptions: KafkaStreams.CloseOptions(leave_group=True)

    def __init__(self, topology: Any, config: Mapping[str, Any]) -> None:
        if not callable(getattr(topology, "nodes", None)):
            build = getattr(topology, "build", None)
            if callable(build):  # a StreamsBuilder: build it, as KafkaStreams(builder.build(), ...) would
                topology = build()
            else:
                raise ConfigError(f"KafkaStreams needs a Topology (or a StreamsBuilder), got {type(topology).__name__}")
        self.topology = topology
        self._configure(config)
        # checked, not made: `pystreams run` constructs a KafkaStreams on the shared state.dir to validate the merged
        # config, and --instances gives each instance its own directory; start() makes it (as it locks it)
        ensure_state_dir(self.config.state_dir, self.config.application_id, create=False)
        self.plan: TopologyPlan | None = None  # type: ignore[assignment]
        self._state = State.CREATED
        self._state_lock = threading.Condition()
        self._listener: StateListener | None = None
        # (new, old) transitions the listener has not seen yet, and whether some thread is calling it now: the
        # listener runs outside _thread_count_lock (Kafka calls it outside its locks "to avoid potential
        # deadlocks") and sees every transition once, in order (_notify_listener)
        self._unnotified: collections.deque[tuple[State, State]] = collections.deque()
        self._notifying = False
        self._handler: ExceptionHandler | None = None
        self.threads: list[Any] = []
        # Kafka's changeThreadCount lock: one thread index and cache split at a time (add/remove/replace)
        self._thread_count_lock = threading.RLock()
        # True from start() on: a close() that lands while start() runs must stop what start() made (a closer thread,
        # as after start()), not just move CREATED -> NOT_RUNNING. start() and close() change the state and create
        # or release clients under _thread_count_lock, so each sees the other (Kafka's start() setState check)
        self._starting = False
        self._paused = False  # pause(): threads keep their group membership but process nothing
        # (thread name, records restored, records to restore) after each restored batch: the CLI's progress bar
        self.restore_listener: Callable[[str, int, int], None] | None = None
        # Kafka's listeners, set with set_global_state_restore_listener / set_standby_update_listener; the restore,
        # standby and global readers call these delegates (restore.py, standby.py, global_state.py)
        self._global_restore_listener = DelegatingStateRestoreListener()
        self._standby_listener = DelegatingStandbyUpdateListener()
        self.errors: list[BaseException] = []
        self.global_state: Any = None
        self._server: Any = None
        self.admin: Any = None
        self._process_lock: Any = None
        self._state_directory: Any = None  # StateDirectory, from start()
        self._cleaner: Any = None  # StateDirCleaner, from start()
        self.assignor: Any = None  # the StreamsPartitionAssignor the group leader runs (assignor_for(plan, config))
        #: 0, or SHUTDOWN_REQUESTED once this client asks the whole application to stop (sent in the subscription)
        self.shutdown_requested = 0

    def _configure(self, config: Mapping[str, Any]) -> None:
        """Everything derived from the config, in one place (the constructor and reconfigure())."""
        streams_config = StreamsConfig(config)
        app_configs = streams_config.app_configs()
        if getattr(self.topology, "logical_graph", None) is not None:
            from pystreams.compiler.validate import check_serdes

            check_serdes(self.topology, app_configs)
            from pystreams.compiler.naming import check_unprovided_names

            # KIP-1111 ensure.explicit.internal.resource.naming also on KafkaStreams(builder or topology, config)
            check_unprovided_names(self.topology, app_configs, warn=False)
        self.config, self.app_configs = streams_config, app_configs
        self.process_id = uuid.uuid4().hex[:12]
        self.client_id = str(streams_config.get("client.id") or f"{streams_config.application_id}-{self.process_id}")

    def reconfigure(self, config: Mapping[str, Any]) -> None:
        """Replace the whole config before start(), keeping handlers and listeners: how `pystreams run` applies
        --set, PYSTREAMS_* and the embedded broker's address to the script's own KafkaStreams. Kafka fixes the
        config at construction; this is the one exception, and only while CREATED."""
        with self._state_lock:
            if self._state is not State.CREATED:
                raise IllegalStateError(f"reconfigure() is only allowed before start() (state {self._state.name})")
            self._configure(config)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> State:
        return self._state

    def set_state_listener(self, listener: StateListener) -> None:
        """listener(new_state, old_state) on every transition (only before start(), like Kafka)."""
        if self._state is not State.CREATED:
            raise IllegalStateError("set_state_listener() is only allowed before start()")
        self._listener = listener

    def set_global_state_restore_listener(self, listener: StateRestoreListener | None) -> None:
        """Kafka's setGlobalStateRestoreListener: listener.on_restore_start / on_batch_restored / on_restore_end /
        on_restore_suspended while active tasks restore their changelogs and while start() bootstraps global stores
        (e.g. to report restore progress). Only before start(); one it raises fails the stream thread (its
        uncaught-exception handler decides) or start(), as in Kafka."""
        with self._state_lock:
            if self._state is not State.CREATED:
                raise IllegalStateError("Can only set GlobalStateRestoreListener before calling start(). Current "
                                        f"state is: {self._state.name}")
            self._global_restore_listener.set(listener)

    def set_standby_update_listener(self, listener: StandbyUpdateListener | None) -> None:
        """Kafka's setStandbyUpdateListener (KIP-988): listener.on_update_start / on_batch_loaded /
        on_update_suspended as standby replicas follow their changelogs. Only before start(); one that raises
        fails the stream thread, as in Kafka."""
        with self._state_lock:
            if self._state is not State.CREATED:
                raise IllegalStateError("Can only set StandbyUpdateListener before calling start(). Current state "
                                        f"is: {self._state.name}")
            self._standby_listener.set(listener)

    def set_uncaught_exception_handler(self, handler: ExceptionHandler) -> None:
        """handler(exception) -> StreamThreadExceptionResponse when a stream thread dies."""
        if self._state is not State.CREATED:
            raise IllegalStateError("set_uncaught_exception_handler() is only allowed before start()")
        self._handler = handler

    def _set_state(self, new: State) -> bool:
        with self._state_lock:
            old = self._state
            if new is old:
                return True
            if new not in _TRANSITIONS[old]:
                return False
            self._state = new
            self._unnotified.append((new, old))
            self._state_lock.notify_all()
        log.info("stream-client [%s] State transition from %s to %s", self.client_id, old.name, new.name)
        self._notify_listener()
        return True

    def _notify_listener(self) -> None:
        """Call the state listener with the transitions it has not seen, in order, but never while this thread
        holds _thread_count_lock (a listener that hands close() or add_stream_thread() to another thread and waits
        for it would deadlock): then the holder calls it once it released the lock (_count_lock), or the thread
        setting the next state does. One thread at a time calls the listener; another one only queues."""
        if self._thread_count_lock._is_owned():  # type: ignore[attr-defined]  # (C and Python RLocks have it)
            return
        with self._state_lock:
            if self._notifying:
                return  # the thread calling the listener now (maybe this one: a listener's own close()) goes on
            self._notifying = True
        try:
            while True:
                with self._state_lock:
                    if not self._unnotified:
                        self._notifying = False
                        return
                    new, old = self._unnotified.popleft()
                if self._listener is not None:
                    try:
                        self._listener(new, old)
                    except Exception:
                        log.exception("state listener failed")
        except BaseException:
            with self._state_lock:
                self._notifying = False
            raise

    @contextlib.contextmanager
    def _count_lock(self) -> Iterator[None]:
        """_thread_count_lock, and after releasing it the state listener for the transitions made under it."""
        try:
            with self._thread_count_lock:
                yield
        finally:
            self._notify_listener()

    def wait_for_state(self, *states: State, timeout: float) -> bool:
        """Block until the client is in one of states (True) or timeout seconds passed (False)."""
        deadline = time.monotonic() + timeout
        with self._state_lock:
            while self._state not in states:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._state_lock.wait(min(left, 3600.0))  # inf (close() without a timeout) is too large a wait
        return True

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Claim the state directory, create internal topics, then start num.stream.threads threads (state
        REBALANCING until assigned). A second live instance on the same state.dir (with persistent stores) is
        refused with StateDirectoryLockedError before any client is created; a failed start closes what it opened
        (admin client, global thread, query server, locks) and leaves the client in ERROR. A close() from another
        thread while start() runs wins: start() creates nothing more (no stream thread starts after it) and
        returns (or raises the global thread's "Initialization ... failed" when the close ended its bootstrap)."""
        if self._state is not State.CREATED:
            raise IllegalStateError(f"KafkaStreams.start() can only be called once (state is {self._state.name})")
        if _START_REFUSED:
            raise IllegalStateError(_START_REFUSED[-1])
        self.config.require_bootstrap()
        directory = StateDirectory(self.config.state_dir, self.config.application_id)
        with self._count_lock():
            if self._state is not State.CREATED or self._starting:  # another start() or a close() came first
                raise IllegalStateError("The client is either already started or already stopped, cannot re-start "
                                        f"(state is {self._state.name})")
            if has_persistent_stores(self.topology):
                # Kafka locks in the constructor (StateDirectory.initializeProcessId); here at start(), as `pystreams
                # run` constructs a KafkaStreams next to the script's own one to validate its merged config
                directory.lock()
            self._state_directory = directory
            self._starting = True
        apply_gc_policy(self.config.gc_tuning)  # process-wide, once: docs/adr/0007-*
        try:
            self._start_clients()
        except BaseException as exc:
            self._close_after_failed_start()
            # the exception's finished frames (plan_topology's, ...) still refer to the AdminClient: a caller
            # keeping the exception would keep its librdkafka instance connecting and logging
            traceback.clear_frames(exc.__traceback__)
            raise

    def _may_go_on(self) -> bool:
        """Under _thread_count_lock, in start(): no close() and no fatal error came in, so start() may create its
        next client (the closer releases only what exists when the state changes)."""
        return self._state in (State.CREATED, State.REBALANCING, State.RUNNING)

    def _start_clients(self) -> None:
        from pystreams.runtime.checkpoint import claim_process_id
        from pystreams.runtime.stream_thread import StreamThread

        app_dir = os.path.join(self.config.state_dir, self.config.application_id)
        os.makedirs(app_dir, exist_ok=True)
        with self._count_lock():
            if not self._may_go_on():
                return
            self.process_id, self._process_lock = claim_process_id(app_dir)
            if not self.config.get("client.id"):
                # Kafka's default <application.id>-<processId> with the process id kept in the state directory, so
                # thread names and client.ids (the admin's too) stay the same across restarts (__init__'s was random)
                self.client_id = f"{self.config.application_id}-{self.process_id}"
            # `<client.id>-admin` (Kafka's ClientUtils.adminClientId; admin.client.id overrides it)
            admin_config = self.config.admin_config(self.client_id)
            admin = self.admin = AdminClient(admin_config)
        # the topics with one Metadata request of our own (a fresh AdminClient's first request waits ~50 ms for
        # librdkafka's reconnect backoff: U's start-up measurement, notes/s5/to-K-from-U.md item 3)
        self.plan = plan_topology(self.topology, self.config.application_id, admin,
                                  bootstrap_servers=self.config.bootstrap_servers,
                                  client_id=str(admin_config["client.id"]), security=self.config.security)
        from pystreams.runtime.assignment import assignor_for

        self.assignor = assignor_for(self.plan, self.config)
        ensure_internal_topics(self.topology, self.plan, admin, self.config.replication_factor,
                               existing=self.plan.cluster_topics, topic_defaults=self.config.topic_configs(),
                               additional_retention_ms=self.config.windowstore_changelog_additional_retention_ms)
        del admin  # only self.admin refers to it: close drops it (an exception's frames would keep a local alive)
        with self._count_lock():
            if not self._may_go_on() or not self._set_state(State.REBALANCING):
                return  # close() came in while the topics were planned: its closer released what start() made
        # the listener saw REBALANCING when the lock was released: a close() it made (or one from another thread
        # meanwhile) stops the start here, before a global thread that the closer would not know of
        with self._count_lock():
            if not self._may_go_on():
                return
            if self.topology.global_subtopology_nodes():
                from pystreams.runtime.global_state import GlobalStateManager

                self.global_state = GlobalStateManager(self)
        if self.global_state is not None:
            # outside the lock: a close() meanwhile ends the bootstrap (the closer closes the global state)
            self.global_state.start()
        with self._count_lock():
            if not self._may_go_on():
                return
            if self.config.application_server or self.config.get("metrics.http.port") is not None:
                # imported only then: server.py pulls prometheus_client and http.server in (~15-19 ms of start-up,
                # U's measurement in notes/s5/to-K-from-U.md); start_http_server still refuses bad ports
                from pystreams.runtime.server import start_http_server

                # application.server (IQ + /metrics) and/or metrics.http.port (only /metrics, Kafka has no HTTP
                # server)
                self._server = start_http_server(self)  # None when neither key is set (or the port is "" / "-1")
        with self._count_lock():  # all created first, so each starts with its final share of the cache
            # Kafka's start() starts the threads only after its setState(REBALANCING) check: a close() (or a
            # fatal global-thread error) that came in after the global thread started must not be followed by
            # stream threads that the close already passed over (they would run on after close() returned)
            if not self._may_go_on():
                return
            for thread in [self._new_thread(StreamThread) for _ in range(self.config.num_stream_threads)]:
                # checked before each: the lock is re-entrant, so a close() on this very thread (a signal handler,
                # a callback of the thread just started) gets in here; the closer already stopped the rest
                if not self._may_go_on():
                    return
                thread.start()
            if not self._may_go_on():
                return
            self._cleaner = StateDirCleaner(self._state_directory, self.config.state_cleanup_delay_ms,
                                            lambda: self._state is State.RUNNING, f"{self.client_id}-StateDirCleaner")
            self._cleaner.start()

    def _close_after_failed_start(self) -> None:
        """Undo a start() that raised: stop whatever threads started, then release every client and lock (the
        client ends in ERROR, as after Kafka's failed start; close() and cleanup() are then allowed). When a
        close() or a fatal thread error came first, its closer thread releases everything instead."""
        with self._count_lock():
            if not self._may_go_on():
                return
            self._set_state(State.PENDING_ERROR)
        for thread in self.threads:
            thread.shutdown()
        self._release(join=True)
        self._set_state(State.ERROR)

    def _new_thread(self, cls: Any) -> Any:
        """A stream thread (not started) with the lowest free index, counted in self.threads, and every thread's
        record cache re-split over the threads now there (Kafka's addStreamThread order)."""
        from pystreams.runtime.thread_admin import (
            live,
            next_thread_index,
            rebalance_caches,
        )

        with self._thread_count_lock:
            self.threads[:] = [t for t in self.threads if live(t)]  # finished threads go (Kafka trims DEAD ones)
            thread = cls(self, next_thread_index(self.threads))
            configure = getattr(getattr(thread, "metrics", None), "configure", None)
            if configure is not None:  # metrics.sample.window.ms / metrics.num.samples (Kafka's metrics)
                configure(self.config)
            self.threads.append(thread)
            rebalance_caches(self)
            return thread

    def _start_thread(self, cls: Any) -> None:
        """Create and start a stream thread (a replacement, or the carrier of a shutdown request), unless the
        client began closing: the closer would not stop a thread started after it looked."""
        with self._thread_count_lock:
            if not self._state.is_running_or_rebalancing():
                log.warning("stream-client [%s] not starting a stream thread: the client is in state %s",
                            self.client_id, self._state.name)
                return
            self._new_thread(cls).start()

    # ------------------------------------------------------------------ threads at run time (thread_admin.py)
    def add_stream_thread(self) -> str | None:
        """Start one more stream thread (only while RUNNING/REBALANCING, else None): scale a client up without a
        restart; it joins the group and takes tasks over at the next rebalance. Returns its name."""
        from pystreams.runtime.thread_admin import add_stream_thread

        return add_stream_thread(self)

    def remove_stream_thread(self, timeout: float | timedelta | None = None) -> str | None:
        """Stop one stream thread cleanly (commit, close its tasks, leave the group, so its tasks move to the
        threads left); its name, or None when not RUNNING/REBALANCING or no thread is left. StreamsTimeoutError
        when it does not stop within timeout seconds."""
        from pystreams.runtime.thread_admin import remove_stream_thread

        return remove_stream_thread(self, timeout)

    def metadata_for_local_threads(self) -> set[ThreadMetadata]:
        """ThreadMetadata of this client's live stream threads: names, states, tasks and client ids."""
        from pystreams.runtime.thread_admin import metadata_for_local_threads

        return metadata_for_local_threads(self)

    def pause(self) -> None:
        """Stop processing, punctuation and standby updates while the threads stay in the group (no rebalance) and
        keep committing (Kafka's pause(), KIP-834); allowed before start(). Transient: not shared with other
        instances."""
        self._paused = True
        log.info("stream-client [%s] paused", self.client_id)

    def resume(self) -> None:
        """Undo pause(): processing goes on from where it stopped."""
        self._paused = False
        for thread in list(self.threads):
            signal = getattr(thread, "signal_resume", None)
            if callable(signal):
                signal()
        log.info("stream-client [%s] resumed", self.client_id)

    def is_paused(self) -> bool:
        """True between pause() and resume()."""
        return self._paused

    def close(self, timeout: float | timedelta | _CloseOptions | None = None) -> bool:
        """Stop all threads with a final commit and clean close; True when the client reached NOT_RUNNING (or
        ERROR) within timeout seconds (a number or timedelta; None: wait for it), or CloseOptions(timeout=...,
        leave_group=...). Like Kafka, a close that times out goes on in the background: the client still reaches
        NOT_RUNNING (state listener called, locks released) later. A negative timeout is a ConfigError."""
        options = timeout if isinstance(timeout, _CloseOptions) else _CloseOptions(timeout=timeout)
        timeout = seconds_of(options.timeout, "timeout")
        # read by the thread's close (thread_commit.py -> StreamsMember.close): unset (a plain close(), DEFAULT), a
        # dynamic member leaves and a static one stays (docs/adr/0005-close-leaves-the-group.md); REMAIN_IN_GROUP:
        # nobody leaves; LEAVE_GROUP: a static member leaves too (LeaveGroup with its group.instance.id)
        if options.operation is GroupMembershipOperation.REMAIN_IN_GROUP:
            for thread in list(self.threads):
                thread.leave_group_on_close = False
        elif options.operation is GroupMembershipOperation.LEAVE_GROUP:
            for thread in list(self.threads):
                thread.leave_group_on_close = GroupMembershipOperation.LEAVE_GROUP
        # under the lock start() creates its clients with: a start() under way sees PENDING_SHUTDOWN and creates
        # nothing more, and the closer sees everything it created before
        with self._count_lock():
            state = self._state
            closing = state in (State.CREATED, State.REBALANCING, State.RUNNING) and self._set_state(
                State.PENDING_SHUTDOWN)
            if closing and state is State.CREATED and not self._starting:  # never started: nothing to stop
                self._set_state(State.NOT_RUNNING)
                return True
        if closing:
            # a commit the threads retry gives up in time for this close (thread_commit._closing_by)
            close_deadline = None if timeout == float("inf") else time.monotonic() + max(0.0, timeout)
            for thread in list(self.threads):
                thread.close_deadline = close_deadline
            # as Kafka: the listener saw PENDING_SHUTDOWN (on leaving the lock), then the closer starts; a start()
            # under way creates nothing more meanwhile (the state is no longer CREATED/REBALANCING/RUNNING)
            with self._count_lock():
                # close() from a callback on a stream thread: that thread stops after returning; the closer skips it
                self._start_closer(State.NOT_RUNNING)
            return self.wait_for_state(State.NOT_RUNNING, timeout=_forever(timeout))
        if state in (State.NOT_RUNNING, State.ERROR):
            return True
        # a close already under way: wait for it, except from a callback on a stream/global thread (e.g. a state
        # listener on PENDING_ERROR), as the close may be waiting for that very thread
        wait = 0.0 if self._on_own_thread() else _forever(timeout)
        if state is State.PENDING_ERROR:
            return self.wait_for_state(State.ERROR, timeout=wait)
        if state is State.PENDING_SHUTDOWN:
            return self.wait_for_state(State.NOT_RUNNING, timeout=wait)
        return self.wait_for_state(State.NOT_RUNNING, State.ERROR, timeout=wait)  # moved meanwhile: wait for its end

    def _on_own_thread(self) -> bool:
        current = threading.current_thread()
        return any(t is current for t in self.threads) or (
            self.global_state is not None and getattr(self.global_state, "_thread", None) is current)

    def _start_closer(self, final: State) -> None:
        """Kafka's shutdownHelper: a daemon thread stops the cleaner and the stream threads, waits for them
        (without a timeout: a close that timed out finishes here), releases the clients and the state directory
        and sets the final state (NOT_RUNNING, or ERROR after a fatal error)."""
        caller = threading.current_thread()
        if self._cleaner is not None:
            self._cleaner.stop(wait=False)  # the close thread waits for a round under way (close(0) returns now)
        for thread in self.threads:
            thread.shutdown()

        def finish() -> None:
            try:
                self._release(join=True, skip=caller)
            except Exception:
                log.exception("stream-client [%s] error while closing", self.client_id)
            self._set_state(final)

        threading.Thread(target=finish, name=f"{self.client_id}-CloseThread", daemon=True).start()

    def _release(self, join: bool, skip: Any = None) -> None:
        """Wait for the stream threads (except skip: a thread that called close() from a callback), then close
        the global thread, the query server, the admin client and the state directory's locks."""
        if self._cleaner is not None:
            self._cleaner.stop()
        current = threading.current_thread()
        while join:  # until none is left: a thread replaced (REPLACE_THREAD) while the close began is stopped too
            alive = [t for t in self.threads if t is not skip and t is not current and t.is_alive()]
            if not alive:
                break
            for thread in alive:
                thread.shutdown()
                thread.join()
        if self.global_state is not None:
            self.global_state.close()
        if self._server is not None:
            self._server.close()
            self._server = None
        # the AdminClient has no close(): its librdkafka instance lives, reconnecting and logging (e.g. "Connection
        # refused" once `pystreams run` stopped its embedded broker), until the last reference goes. A thread still
        # stopping may be purging with it: the purger skips when this is None and a local reference keeps it alive
        self.admin = None
        if self._process_lock is not None:
            self._process_lock.unlock()
            self._process_lock = None
        if self._state_directory is not None:
            self._state_directory.unlock()

    def __enter__(self) -> KafkaStreams:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(60)

    def cleanup(self) -> None:
        """Delete this application's local state (task directories and global state; Kafka's cleanUp()): only in
        CREATED, NOT_RUNNING or ERROR, as Kafka requires, and never while another live instance uses the same
        state directory (StateDirectoryLockedError: that instance's stores would be deleted under it)."""
        if self._state not in (State.CREATED, State.NOT_RUNNING, State.ERROR):
            raise IllegalStateError(f"Cannot clean up while running (state is {self._state.name}): call close() "
                                    "first and wait for it to finish")
        StateDirectory(self.config.state_dir, self.config.application_id).clean()

    # ------------------------------------------------------------------ callbacks from threads
    def _thread_rebalancing(self) -> None:
        if self._state is State.RUNNING:
            self._set_state(State.REBALANCING)

    def _thread_running(self) -> None:
        live = [t for t in self.threads if t.is_alive() or t.running]
        if self._state is State.REBALANCING and all(t.assigned_once and not t.rebalancing for t in live):
            self._set_state(State.RUNNING)

    def _restore_progress(self, thread: Any, done: int, total: int) -> None:
        if self.restore_listener is not None:
            self.restore_listener(thread.name, done, total)

    def _thread_failed(self, thread: Any, error: BaseException) -> None:
        """A stream or global thread died with error: the uncaught-exception handler decides (uncaught_exceptions)."""
        from pystreams.runtime.uncaught_exceptions import handle_thread_failure

        handle_thread_failure(self, thread, error)

    def _shutdown_to_error(self) -> None:
        with self._count_lock():  # as close(): a start() under way starts nothing after this
            if self._state is State.PENDING_ERROR or not self._set_state(State.PENDING_ERROR):
                return  # already going to ERROR (one closer is enough), or closing
        with self._count_lock():  # after the listener saw PENDING_ERROR, as Kafka's closeToError
            self._start_closer(State.ERROR)

    def _on_assignment(self, thread: Any, info: Any) -> None:
        """After every assignment a stream thread receives: keep the hosts' partitions for interactive queries;
        SHUTDOWN_REQUESTED (some instance asked for SHUTDOWN_APPLICATION) shuts this client down into ERROR."""
        from pystreams.runtime.assignment import SHUTDOWN_REQUESTED

        note_active = getattr(getattr(thread, "_standby", None), "note_active_tasks", None)
        if callable(note_active):  # before the thread's standbys change: one becoming active here is PROMOTED
            note_active(info.active_tasks)
        if info.error_code == SHUTDOWN_REQUESTED:
            if self._state not in (State.PENDING_ERROR, State.ERROR, State.PENDING_SHUTDOWN, State.NOT_RUNNING):
                log.error("stream-client [%s] the application %s was asked to shut down (SHUTDOWN_REQUESTED from "
                          "an instance's uncaught-exception handler): shutting down", self.client_id,
                          self.config.application_id)
                self._shutdown_to_error()
            return
        if info.error_code:
            log.error("stream-client [%s] assignment error code %d from the group leader", self.client_id,
                      info.error_code)
            return
        self._note_assignment_hosts(info)

    # ------------------------------------------------------------------ metrics
    def metrics(self) -> dict[str, float]:
        """Kafka Streams' client metrics by name over all stream threads (totals/rates summed, latencies
        averaged/maxed; thread_metrics.client_metrics), plus pystreams' active-tasks / standby-tasks."""
        from pystreams.runtime.thread_metrics import client_metrics

        return client_metrics(self)
