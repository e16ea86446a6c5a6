"""Typed remote interactive queries: the key travels as bytes of the caller's key serializer, the value comes back
as bytes of the store's value serde and is deserialized on the caller's side with the store's serde, so a remote
answer is the same Python object (Decimal, datetime, a Record model, bytes, ...) as a local query returns, for
any key type the store's key serde handles (str, int, bytes, tuples, Records, ...).

Wire (on application.server, next to the plain JSON /v1/stores endpoint):
GET /v1/raw/<store>?type=key_value&key=<base64url>           -> {"value": <base64> | null}
GET /v1/raw/<store>?type=window&key=<b64>&from=<ms>&to=<ms>  -> {"windows": [[start, <base64>], ...]}
GET /v1/raw/<store>?type=session&key=<b64>[&from=<earliest end>&to=<latest start>]
                                                             -> {"sessions": [[start, end, <base64>], ...]}
Errors: {"error": text, "code": UNKNOWN_STORE (404) | WRONG_STORE_TYPE (400) | BAD_REQUEST (400) |
UNAVAILABLE (503)}; the client raises the matching PystreamsError subclass.
&stale=true&partition=<n> reads the answering instance's stale stores (standby or restoring copies) of that
partition (Kafka's StoreQueryParameters.enableStaleStores().withPartition(n)).

Standby fallback (allow_stale=True; Kafka leaves it to the user with KeyQueryMetadata.standbyHosts and
enableStaleStores): the active host is asked first; when it cannot be reached (connection refused or timed out:
the instance is down and the group has not moved its tasks yet) or answers UNAVAILABLE, or there is no active
host, each standby host of the key is asked for its stale copy, this instance's own standby locally. Without
allow_stale only the active host is asked, as before. A stale answer may lag the active store by the standby's
changelog lag.

Time: one call takes at most `timeout` seconds in all (the call's keyword, else pystreams.iq.remote.timeout.ms,
default 10000): every HTTP request waits at most for the time left. When every host asked is unreachable, the
metadata (which changes with the next assignment, once the group noticed the instance is gone: up to
session.timeout.ms) is watched for another host of the key until shortly before the time is up, and the query is
retried once there (the new active host, this instance, or with allow_stale a standby); otherwise a
HostUnreachableError says which host is down and that the metadata still names it. Never a hang, never an answer
from an instance that does not hold the key's partition.
"""
from __future__ import annotations

import base64
import binascii
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pystreams.errors import ConfigError, PystreamsError
from pystreams.runtime.queries import (
    HostInfo,
    InvalidStateStoreError,
    StoreQueryParameters,
    StoreTypeMismatchError,
    UnknownStateStoreError,
    check_known,
    key_metadata,
    key_topic,
    live_stores,
    serialize_key,
)
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.api import KeyValue
from pystreams.state.queryable import QueryableStoreTypes

KINDS = ("key_value", "window", "session")
_STORE_TYPE = {"key_value": QueryableStoreTypes.key_value_store(), "window": QueryableStoreTypes.window_store(),
               "session": QueryableStoreTypes.session_store()}
LONG_MAX = (1 << 63) - 1

#: the most one remote query call (query / query_window / query_sessions of a key held elsewhere) takes in all:
#: its HTTP requests, the wait for new metadata after an unreachable host, and the one retry
REMOTE_TIMEOUT_CONFIG = "pystreams.iq.remote.timeout.ms"
DEFAULT_REMOTE_TIMEOUT_MS = 10_000
METADATA_POLL_S = 0.05  # how often the metadata is looked at while waiting for a dead host's tasks to move


class RemoteQueryError(PystreamsError):
    """The instance holding the key could not be asked, or answered with an error of its own."""


# ---------------------------------------------------------------- codec
def b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.urlsafe_b64encode(raw).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        # validate=True: a character outside the alphabet is an error, not silently dropped (an empty key)
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"not base64url: {text[:40]!r}") from e


def store_serdes(streams: Any, name: str) -> tuple[Any, Any, str]:
    """(key serde, value serde, topic the serdes are called with) of store `name`: a live local instance's own,
    else the store builder's serdes with default.key.serde / default.value.serde filled in, as a task would."""
    for store in live_stores(streams, name):
        ks, vs = getattr(store, "_ks", None), getattr(store, "_vs", None)
        if ks is not None and vs is not None:
            return ks, vs, str(getattr(store, "_topic", ""))
    from pystreams.serdes import resolve_serde

    topology = streams.topology
    builder = topology.store_builders().get(name) or topology.global_store_builders().get(name)
    if builder is None:
        raise UnknownStateStoreError(f"no store named {name} in the topology")
    configs = streams.app_configs

    def default(key: str) -> Any:
        value = configs.get(key)
        return None if value is None else resolve_serde(value)

    dk, dv = default("default.key.serde"), default("default.value.serde")
    out = []
    for serde, fallback, what in ((builder.key_serde, dk, "key"), (builder.value_serde, dv, "value")):
        if serde is not None and not (hasattr(serde, "serialize") and hasattr(serde, "deserialize")):
            serde = resolve_serde(serde)
        serde = serde if serde is not None else fallback
        if serde is None:
            raise InvalidStateStoreError(f"store {name} has no {what} serde here and default.{what}.serde is not set")
        set_if_unset = getattr(serde, "set_if_unset", None)
        if callable(set_if_unset):
            set_if_unset(dk, dv)
        out.append(serde)
    app_id = streams.config.application_id
    topic = topology.changelog_topic(name, app_id) or f"{app_id}-{name}-changelog"
    return out[0], out[1], str(topic)


# ---------------------------------------------------------------- server side
def raw_answer(streams: Any, store: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of GET /v1/raw/<store>?...: reads the local store with the key's typed form."""
    kind = query.get("type", ["key_value"])[0]
    try:
        if kind not in KINDS:
            raise ValueError(f"type must be one of {', '.join(KINDS)}, got {kind!r}")
        if "key" not in query:
            raise ValueError("pass the serialized key as base64url: ?key=...")
        raw_key = unb64(query["key"][0])
        check_known(streams, store)
        params = StoreQueryParameters.from_name_and_type(store, _STORE_TYPE[kind])
        if query.get("stale", ["false"])[0] == "true":
            params = params.enable_stale_stores()
        if "partition" in query:
            params = params.with_partition(int(query["partition"][0]))
        view = streams.store(params)
        ks, vs, topic = store_serdes(streams, store)
        try:
            key = ks.deserialize(topic, raw_key)
        except Exception as e:
            raise ValueError(f"the key bytes are not a key of store {store} ({type(ks).__name__}: {e})") from e
        if kind == "key_value":
            value = view.get(key)
            return 200, {"value": b64(None if value is None else vs.serialize(topic, value))}
        if kind == "window":
            time_from = int(query.get("from", ["0"])[0])
            time_to = int(query.get("to", [str(LONG_MAX)])[0])
            return 200, {"windows": [[start, b64(vs.serialize(topic, value))]
                                     for start, value in view.fetch(key, time_from, time_to)]}
        earliest_end = int(query.get("from", ["0"])[0])
        latest_start = int(query.get("to", [str(LONG_MAX)])[0])
        return 200, {"sessions": [[w.window.start, w.window.end, b64(vs.serialize(topic, value))]
                                  for w, value in view.find_sessions(key, earliest_end, latest_start)]}
    except UnknownStateStoreError as e:
        return 404, {"error": str(e), "code": "UNKNOWN_STORE"}
    except StoreTypeMismatchError as e:
        return 400, {"error": str(e), "code": "WRONG_STORE_TYPE"}
    except InvalidStateStoreError as e:
        return 503, {"error": str(e), "code": "UNAVAILABLE"}
    except (ValueError, PystreamsError) as e:
        return 400, {"error": str(e), "code": "BAD_REQUEST"}


# ---------------------------------------------------------------- client side
_ERRORS = {"UNKNOWN_STORE": UnknownStateStoreError, "WRONG_STORE_TYPE": StoreTypeMismatchError,
           "UNAVAILABLE": InvalidStateStoreError}


class HostUnreachableError(RemoteQueryError):
    """The instance could not be reached at all (connection refused or reset, or no answer within the timeout):
    it is probably down, and the group may not have moved its tasks yet."""

    def __init__(self, message: str, hosts: frozenset[HostInfo] = frozenset()) -> None:
        super().__init__(message)
        self.hosts = hosts


def fetch_raw(host: HostInfo, store: str, kind: str, raw_key: bytes, extra: dict[str, Any] | None = None,
              timeout: float = DEFAULT_REMOTE_TIMEOUT_MS / 1000) -> dict[str, Any]:
    """GET /v1/raw/<store> on host, waiting at most `timeout` seconds for the connection and for each read; the
    JSON answer, the answer's error as a PystreamsError subclass, or HostUnreachableError."""
    params = {"type": kind, "key": b64(raw_key),
              **{k: v if isinstance(v, str) else str(int(v)) for k, v in (extra or {}).items()}}
    url = f"http://{host.host}:{host.port}/v1/raw/{urllib.parse.quote(store, safe='')}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as e:
        try:
            body = json.loads(e.read())
        except ValueError:
            body = {}
        error = _ERRORS.get(body.get("code", ""), RemoteQueryError)
        raise error(f"{host}: {body.get('error') or e}") from None
    except OSError as e:  # URLError (refused, unknown host), TimeoutError, ConnectionResetError, ...
        raise HostUnreachableError(f"cannot query store {store} on {host}: unreachable ({getattr(e, 'reason', e)})",
                                   frozenset({host})) from e
    except ValueError as e:
        raise RemoteQueryError(f"{host} answered a query of store {store} with something else than JSON: {e}") from e


def remote_timeout(streams: Any, timeout: float | timedelta | None = None) -> float:
    """Seconds one remote query call may take in all (requests, the wait for new metadata and the retry): the
    call's own `timeout` (seconds or a timedelta), else pystreams.iq.remote.timeout.ms (default 10000)."""
    if timeout is None:
        get = getattr(streams.config, "get", None)  # a StreamsConfig (tests may pass a bare namespace)
        raw = DEFAULT_REMOTE_TIMEOUT_MS if get is None else get(REMOTE_TIMEOUT_CONFIG, DEFAULT_REMOTE_TIMEOUT_MS)
        try:
            ms = int(raw)
        except (TypeError, ValueError):
            ms = -1
        if isinstance(raw, bool) or ms <= 0:
            raise ConfigError(f"{REMOTE_TIMEOUT_CONFIG} must be a number of milliseconds > 0, got {raw!r}")
        return ms / 1000
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ConfigError(f"timeout must be a number of seconds > 0 or a timedelta, got {timeout!r}")
    return float(seconds)


Target = tuple[HostInfo | None, bool]  # (a remote host, or None for this instance; read stale stores?)
RETRY_BACKOFF_S = 0.1  # before the one retry after UNAVAILABLE (Kafka's retry.backoff.ms default: 100 ms)


def _targets(streams: Any, store: str, key: Any, key_serializer: Any, allow_stale: bool,
             partitioner: Any = None) -> tuple[list[Target], bytes, int | None]:
    """Where to ask, in order: the active host (None: this instance), then with allow_stale every standby host;
    the key's bytes; its partition (None for a global store)."""
    check_known(streams, store)
    if store in streams.topology.global_store_names():  # every instance holds all of a global store
        return [(None, False)], serialize_key(key_serializer, store, key), None
    meta = key_metadata(streams, store, key, key_serializer, partitioner)
    raw = serialize_key(key_serializer, key_topic(streams, store), key)  # the bytes that chose the partition
    local = streams.config.application_server
    here = HostInfo.parse(local) if local else None
    targets: list[Target] = []
    if meta.active_host.port >= 0:
        targets.append((None if meta.active_host == here else meta.active_host, False))
    if allow_stale:
        standbys = sorted(meta.standby_hosts, key=lambda h: (h != here, str(h)))  # our own copy first
        targets += [(None if h == here else h, True) for h in standbys]
    if not targets:
        raise InvalidStateStoreError(f"no instance holds partition {meta.partition} of store {store} right now "
                                     f"(rebalancing?){'' if allow_stale else ', and stale reads are not allowed'}: "
                                     "retry")
    return targets, raw, meta.partition


def _ask(streams: Any, store: str, key: Any, key_serializer: Any, allow_stale: bool,
         local: Any, remote: Any, partitioner: Any = None, timeout: float | timedelta | None = None) -> Any:
    """local(params) on this instance or remote(host, raw, extra, seconds) on another, pinned to the key's
    partition (Kafka's StoreQueryParameters.withPartition: a host that no longer holds it answers UNAVAILABLE,
    never a wrong null), within remote_timeout() seconds in all. Retried once with fresh metadata:
    - after UNAVAILABLE (the partition moved since the metadata was read), after a short backoff;
    - after every host asked was unreachable (the instance is down): once the metadata (the next assignment) names
      another host for the key, or, with allow_stale, another standby; a metadata that still names only the
      unreachable hosts when the time is up is a HostUnreachableError saying so.
    Each kind of failure is retried once; after a host was found down, UNAVAILABLE from the host now named (its
    new task still restoring the partition) is retried every RETRY_BACKOFF_S while time is left. Never a hang: every
    request and wait ends with the budget."""
    budget = remote_timeout(streams, timeout)
    deadline = time.monotonic() + budget
    unavailable_retried = unreachable_retried = False
    while True:
        try:
            targets, raw, partition = _targets(streams, store, key, key_serializer, allow_stale, partitioner)
            return _ask_targets(store, targets, raw, partition, allow_stale, local, remote, deadline)
        except (UnknownStateStoreError, StoreTypeMismatchError):
            raise
        except HostUnreachableError as e:
            if unreachable_retried:
                raise
            unreachable_retried = True
            # leave the retry a share of the time: the wait is for the group to notice the instance is gone
            if not _await_other_hosts(streams, store, key, key_serializer, allow_stale, partitioner, e.hosts,
                                      deadline - min(1.0, budget / 4)):
                raise HostUnreachableError(
                    f"{e}; after {budget:.1f}s the metadata still names only {', '.join(sorted(map(str, e.hosts)))} "
                    f"for this key of store {store} (the group has not moved its tasks yet): retry later"
                    f"{'' if allow_stale else ', or pass allow_stale=True to read a standby'}", e.hosts) from e
        except InvalidStateStoreError:
            left = deadline - time.monotonic()
            if (unavailable_retried and not unreachable_retried) or left <= RETRY_BACKOFF_S:
                raise
            unavailable_retried = True
            time.sleep(RETRY_BACKOFF_S)  # a rebalance that moved the partition publishes its assignment meanwhile


def _await_other_hosts(streams: Any, store: str, key: Any, key_serializer: Any, allow_stale: bool,
                       partitioner: Any, dead: frozenset[HostInfo], until: float) -> bool:
    """Poll this client's metadata (it changes with each assignment) until a target other than the dead hosts
    holds the key (True) or `until` (False)."""
    while True:
        try:
            targets, _raw, _partition = _targets(streams, store, key, key_serializer, allow_stale, partitioner)
            if any(host not in dead for host, _stale in targets):  # a new host, or this instance (None)
                return True
        except (UnknownStateStoreError, StoreTypeMismatchError):
            raise
        except InvalidStateStoreError:
            pass  # no host at all right now (rebalancing): wait on
        left = until - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(METADATA_POLL_S, left))


def _ask_targets(store: str, targets: list[Target], raw: bytes, partition: int | None, allow_stale: bool,
                 local: Any, remote: Any, deadline: float) -> Any:
    """Over targets in order: the next one is tried only when one is unreachable (RemoteQueryError) or has no copy
    (InvalidStateStoreError), and only with allow_stale; otherwise the first error is raised. When every target
    was unreachable: HostUnreachableError naming them all."""
    last: Exception | None = None
    unreachable: set[HostInfo] = set()
    for host, stale in targets:
        try:
            if host is None:
                params = StoreQueryParameters.from_name_and_type(store).with_partition(partition)
                return local(params.enable_stale_stores() if stale else params)
            left = deadline - time.monotonic()
            if left <= 0:
                raise HostUnreachableError(f"no time left to ask {host} for store {store}", frozenset({host}))
            extra = {"partition": str(partition)} if partition is not None else {}
            return remote(host, raw, {"stale": "true", **extra} if stale else extra, left)
        except (RemoteQueryError, InvalidStateStoreError) as e:
            if isinstance(e, (UnknownStateStoreError, StoreTypeMismatchError)):
                raise
            if isinstance(e, HostUnreachableError):
                unreachable |= e.hosts
            if not allow_stale:
                raise
            last = e
    assert last is not None
    if len(unreachable) == len(targets):  # all remote and all down: the caller may wait for new metadata
        raise HostUnreachableError(str(last), frozenset(unreachable))
    raise last


def query_key(streams: Any, store: str, key: Any, key_serializer: Any, allow_stale: bool = False,
              partitioner: Any = None, timeout: float | timedelta | None = None) -> Any:
    """KafkaStreams.query(): key's value in key-value store `store`, locally or from the instance holding it;
    allow_stale: from a standby (possibly behind) when the active instance cannot answer; partitioner: Kafka's
    StreamPartitioner (topic, key, value, num_partitions) -> partition, for keys not placed by murmur2; timeout:
    the most the call takes in all (remote_timeout)."""
    def local(params: StoreQueryParameters) -> Any:
        return streams.store(replace(params, query_type=QueryableStoreTypes.key_value_store())).get(key)

    def remote(host: HostInfo, raw: bytes, extra: dict[str, str], seconds: float) -> Any:
        value = fetch_raw(host, store, "key_value", raw, extra, seconds)["value"]
        if value is None:
            return None
        _ks, vs, topic = store_serdes(streams, store)
        return vs.deserialize(topic, unb64(value))

    return _ask(streams, store, key, key_serializer, allow_stale, local, remote, partitioner, timeout)


def query_window_key(streams: Any, store: str, key: Any, time_from: int, time_to: int,
                     key_serializer: Any, allow_stale: bool = False, partitioner: Any = None,
                     timeout: float | timedelta | None = None) -> list[tuple[int, Any]]:
    """KafkaStreams.query_window(): (window start, value) of key's windows starting in [time_from, time_to]."""
    def local(params: StoreQueryParameters) -> list[tuple[int, Any]]:
        view = streams.store(replace(params, query_type=QueryableStoreTypes.window_store()))
        return [(start, value) for start, value in view.fetch(key, int(time_from), int(time_to))]

    def remote(host: HostInfo, raw: bytes, extra: dict[str, str], seconds: float) -> list[tuple[int, Any]]:
        windows = fetch_raw(host, store, "window", raw, {"from": time_from, "to": time_to, **extra},
                            seconds)["windows"]
        _ks, vs, topic = store_serdes(streams, store)
        return [(int(start), vs.deserialize(topic, unb64(value))) for start, value in windows]

    return _ask(streams, store, key, key_serializer, allow_stale, local, remote, partitioner,  # type: ignore[no-any-return]
                timeout)


def query_sessions_key(streams: Any, store: str, key: Any, key_serializer: Any, earliest_session_end: int = 0,
                       latest_session_start: int = LONG_MAX, allow_stale: bool = False,
                       partitioner: Any = None, timeout: float | timedelta | None = None) -> list[KeyValue]:
    """KafkaStreams.query_sessions(): (Windowed(key, SessionWindow), value) of key's sessions, oldest first (the key
    as the store's key serde gives it back, e.g. a list for a JSON tuple, like a local fetch); with bounds, Kafka's
    findSessions(key, earliestSessionEndTime, latestSessionStartTime): sessions ending at or after the first and
    starting at or before the second."""
    def local(params: StoreQueryParameters) -> list[KeyValue]:
        view = streams.store(replace(params, query_type=QueryableStoreTypes.session_store()))
        return list(view.find_sessions(key, int(earliest_session_end), int(latest_session_start)))

    def remote(host: HostInfo, raw: bytes, extra: dict[str, str], seconds: float) -> list[KeyValue]:
        bounds = {"from": earliest_session_end, "to": latest_session_start, **extra}
        sessions = fetch_raw(host, store, "session", raw, bounds, seconds)["sessions"]
        ks, vs, topic = store_serdes(streams, store)
        stored_key = ks.deserialize(topic, raw)  # the key as the store gives it back, as a local fetch returns it
        return [KeyValue(Windowed(stored_key, SessionWindow(int(start), int(end))),
                         vs.deserialize(topic, unb64(value))) for start, end, value in sessions]

    return _ask(streams, store, key, key_serializer, allow_stale, local, remote, partitioner,  # type: ignore[no-any-return]
                timeout)
