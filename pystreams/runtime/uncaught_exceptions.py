"""What KafkaStreams does when a stream (or the global) thread dies: Kafka's handleStreamsUncaughtException. The
client's uncaught-exception handler answers REPLACE_THREAD (a new thread with the next free index), SHUTDOWN_CLIENT
(the default: this client goes PENDING_ERROR -> ERROR) or SHUTDOWN_APPLICATION (every instance is asked to stop
through the group's assignment). The functions take the KafkaStreams client; its _thread_failed delegates here."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pystreams.runtime.kafka_streams import KafkaStreams

log = logging.getLogger("pystreams.runtime")


def handle_thread_failure(streams: KafkaStreams, thread: Any, error: BaseException) -> None:
    """Record error and act on the handler's answer (no handler, or one that raises: SHUTDOWN_CLIENT; a failed
    global thread always shuts the client down, as Kafka's). Nothing happens while the client is closing."""
    from pystreams.runtime.kafka_streams import State, StreamThreadExceptionResponse

    streams.errors.append(error)
    if streams._state in (State.PENDING_SHUTDOWN, State.NOT_RUNNING):
        return
    response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT
    if streams._handler is not None:
        try:
            response = streams._handler(error)
        except Exception:
            log.exception("uncaught-exception handler failed; shutting the client down")
    if thread is streams.global_state:  # like Kafka: a failed global thread always shuts the client down
        response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT
    if response is StreamThreadExceptionResponse.REPLACE_THREAD and streams._state.is_running_or_rebalancing():
        replace_stream_thread(streams, thread, error)
        return
    if response is StreamThreadExceptionResponse.SHUTDOWN_APPLICATION and request_application_shutdown(
            streams, thread, error):
        return
    streams._shutdown_to_error()


def replace_stream_thread(streams: KafkaStreams, thread: Any, error: BaseException) -> None:
    """Kafka's replaceStreamThread: the failing thread holds its index until it is DEAD (it is still in run()
    here), so the replacement takes the next free index (KAFKA-12375); a later add_stream_thread() may reuse the
    failed one's. Then the failed thread is dropped and the caches re-split. A thread that failed while
    remove_stream_thread() was stopping it is not replaced."""
    from pystreams.runtime.thread_admin import rebalance_caches

    if not getattr(thread, "running", True):
        log.warning("stream thread %s failed while being removed: %s", thread.name, error)
        return
    log.warning("replacing stream thread %s after: %s", thread.name, error)
    with streams._thread_count_lock:
        streams._start_thread(type(thread))
        if thread in streams.threads:
            streams.threads.remove(thread)
        rebalance_caches(streams)


def request_application_shutdown(streams: KafkaStreams, failed: Any, error: BaseException) -> bool:
    """Kafka's SHUTDOWN_APPLICATION: SHUTDOWN_REQUESTED goes into the subscription and a live thread rejoins
    (a new one is started to carry it when none is left); the assignment that comes back stops every
    instance (KafkaStreams._on_assignment). False when the failed thread cannot ask (it is not a stream thread)."""
    from pystreams.runtime.assignment import SHUTDOWN_REQUESTED

    if not callable(getattr(failed, "request_rejoin", None)):
        log.error("SHUTDOWN_APPLICATION: the failed thread cannot rejoin the group; only this client shuts down")
        return False
    log.error("SHUTDOWN_APPLICATION after %r: asking every instance of %s to shut down", error,
              streams.config.application_id)
    streams.shutdown_requested = SHUTDOWN_REQUESTED
    live = [t for t in streams.threads if t is not failed and t.is_alive() and t.running]
    if not live:  # like Kafka: a thread is added only to send the request (it gets no task)
        if failed in streams.threads:
            streams.threads.remove(failed)
        streams._start_thread(type(failed))
        return True
    for t in live:
        t.request_rejoin()
    return True
