"""RocksDB bytes store (rocksdict, raw mode): one DB per store under <task dir>/rocksdb/<store>.

Restore writes a changelog batch and the changelog offset in ONE WriteBatch (Quix Streams' idea), so after a
crash the data and the offset it reflects can never disagree; the offset lives in a metadata column family.
"""
from __future__ import annotations

import logging
import os
import struct
from typing import Any, Iterable

from rocksdict import Options, Rdict, WriteBatch

from pystreams.errors import StateStoreError
from pystreams.state.internals.bytes_store import BytesPairs, invalid_range
from pystreams.state.internals.rocksdb_options import StoreOptions, store_options

log = logging.getLogger("pystreams.state")

METADATA_CF = "__pystreams_metadata__"
CHANGELOG_OFFSET_KEY = b"changelog_offset"
_OFFSET = struct.Struct(">q")


class Cursor:
    """The RocksDB iterator one range/all/prefix iterator reads through; None once its store closed."""

    __slots__ = ("it",)

    def __init__(self, it: Any) -> None:
        self.it = it


class OpenIterators:
    """A store's RocksDB iterators being read: Kafka's openIterators, closed with the store. A generator reading
    through a Cursor keeps no other reference to its RocksDB iterator across a yield, so close_all lets go of it,
    and gives the cursor back (done) when it ends: run out, closed, or dropped by its user (a generator's finally
    runs when it is collected). A plain set: cheaper per range than weak references (~0.4 vs ~1 us)."""

    __slots__ = ("_cursors",)

    def __init__(self) -> None:
        self._cursors: set[Cursor] = set()

    def open(self, db: Rdict) -> Cursor:
        cursor = Cursor(db.iter())
        self._cursors.add(cursor)
        return cursor

    def done(self, cursor: Cursor) -> None:
        self._cursors.discard(cursor)

    def close_all(self, store: str) -> None:
        """Kafka's closeOpenIterators on a store's close: iterators user code left open (never run out, never
        closed) let go of their RocksDB iterator, with Kafka's warning, so the DB really closes (a live RocksDB
        iterator keeps it, and its LOCK, open: the store could not be opened again in this process); read again,
        they raise as any iterator that outlived its store."""
        cursors = [c for c in list(self._cursors) if c.it is not None]
        if cursors:
            log.warning("Closing %d open iterators for store %s", len(cursors), store)
            for cursor in cursors:
                cursor.it = None
        self._cursors.clear()


def closed_iterator_error(store: str) -> StateStoreError:
    """Kafka's InvalidStateStoreException for an iterator read after its store closed."""
    return StateStoreError(f"RocksDB iterator for store {store} has closed: the store was closed while the iterator "
                           "was open (close iterators before the store)")


class RocksDBStore:
    """Kafka's RocksDBStore: persistent, sorted by key bytes, reopened with its data after a restart."""

    def __init__(self, name: str, parent_dir: str = "rocksdb") -> None:
        self._name = name
        self._parent_dir = parent_dir
        self._db: Rdict | None = None
        self._meta: Any = None
        self.path: str | None = None
        self._configs: Any = None  # the app's configs (context.configs at init): rocksdb.config.setter
        self._options: StoreOptions | None = None
        self._iterators = OpenIterators()  # closed with the store

    @property
    def name(self) -> str:
        return self._name

    @property
    def persistent(self) -> bool:
        return True

    def init(self, context: Any, root: Any) -> None:
        self._configs = getattr(context, "configs", None)
        self.open(os.path.join(context.state_dir, self._parent_dir, self._name))

    def open(self, path: str) -> None:
        """Open (creating if needed) the DB at path."""
        os.makedirs(path, exist_ok=True)
        opened = store_options(self._name, self._configs, create_missing_column_families=True)
        try:
            self._db = Rdict(path, opened.options, column_families={METADATA_CF: Options(raw_mode=True)})
        except Exception as e:  # rocksdict raises plain Exception
            opened.close()
            raise StateStoreError(f"Cannot open RocksDB for store {self._name} at {path}: {e} "
                                  "(is another instance using the same state.dir?)") from e
        self._meta = self._db.get_column_family_handle(METADATA_CF)
        self._options = opened
        self.path = path

    def is_open(self) -> bool:
        return self._db is not None

    def _require(self) -> Rdict:
        db = self._db
        if db is None:
            raise StateStoreError(f"RocksDB store {self._name} is not open")
        return db

    def flush(self) -> None:
        """Nothing to do per commit: writes go through RocksDB's WAL, so they survive a process crash
        (Kafka disables the WAL and flushes memtables instead; a memtable flush per commit would cost an SST
        file per record in the test driver)."""

    def close(self) -> None:
        self._iterators.close_all(self._name)
        if self._db is not None:
            db, self._db, self._meta = self._db, None, None
            db.close()
        opened, self._options = self._options, None
        if opened is not None:
            opened.close()  # rocksdb.config.setter's close(store_name, options), after the DB closed

    def get(self, key: bytes) -> bytes | None:
        return self._require().get(key)

    def put(self, key: bytes, value: bytes | None) -> None:
        db = self._require()
        if value is None:
            db.delete(key)
        else:
            db.put(key, value)

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        old = self.get(key)
        if old is None:
            self.put(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        batch = WriteBatch(raw_mode=True)
        for key, value in entries:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        self._require().write(batch)

    def delete(self, key: bytes) -> bytes | None:
        db = self._require()
        old = db.get(key)
        if old is not None:
            db.delete(key)
        return old

    def range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        if invalid_range(from_key, to_key):
            return iter(())
        return self._forward(from_key, to_key, None)

    def reverse_range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        if invalid_range(from_key, to_key):
            return iter(())
        return self._backward(from_key, to_key)

    def all(self) -> BytesPairs:
        return self._forward(None, None, None)

    def reverse_all(self) -> BytesPairs:
        return self._backward(None, None)

    def prefix_scan(self, prefix: bytes) -> BytesPairs:
        return self._forward(prefix, None, prefix)

    # the generators below hold their RocksDB iterator only between two yields: across one, only the cursor has it
    # (see OpenIterators), and _resume takes it back or raises when the store closed meanwhile
    def _forward(self, from_key: bytes | None, to_key: bytes | None, prefix: bytes | None) -> BytesPairs:
        cursor = self._iterators.open(self._require())
        try:
            it = cursor.it
            if from_key is None:
                it.seek_to_first()
            else:
                it.seek(from_key)
            while it.valid():
                k = it.key()
                if (to_key is not None and k > to_key) or (prefix is not None and not k.startswith(prefix)):
                    return
                v, it = it.value(), None
                yield k, v
                it = self._resume(cursor)
                it.next()
        finally:
            self._iterators.done(cursor)

    def _backward(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        cursor = self._iterators.open(self._require())
        try:
            it = cursor.it
            if to_key is None:
                it.seek_to_last()
            else:
                it.seek_for_prev(to_key)
            while it.valid():
                k = it.key()
                if from_key is not None and k < from_key:
                    return
                v, it = it.value(), None
                yield k, v
                it = self._resume(cursor)
                it.prev()
        finally:
            self._iterators.done(cursor)

    def _resume(self, cursor: Cursor) -> Any:
        """The cursor's RocksDB iterator again after a yield; Kafka's InvalidStateStoreException (an iterator
        outliving its store) when the store closed meanwhile."""
        it = cursor.it
        if self._db is None or it is None:
            raise closed_iterator_error(self._name)
        return it

    def approximate_num_entries(self) -> int:
        return int(self._require().property_int_value("rocksdb.estimate-num-keys") or 0)

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Apply changelog records (key, value, timestamp, offset) and the last offset in one WriteBatch."""
        if not records:
            return
        batch = WriteBatch(raw_mode=True)
        for key, value, _ts, _offset in records:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        batch.put(CHANGELOG_OFFSET_KEY, _OFFSET.pack(records[-1][3]), self._meta)
        self._require().write(batch)

    def write_changelog_offset(self, offset: int) -> None:
        """Record the changelog offset the data reflects (the runtime calls this on commit)."""
        batch = WriteBatch(raw_mode=True)
        batch.put(CHANGELOG_OFFSET_KEY, _OFFSET.pack(offset), self._meta)
        self._require().write(batch)

    def changelog_offset(self) -> int | None:
        """The changelog offset stored with the data, or None if never restored/committed."""
        cf = self._require().get_column_family(METADATA_CF)
        try:
            raw = cf.get(CHANGELOG_OFFSET_KEY)
        finally:
            del cf
        return None if raw is None else int(_OFFSET.unpack(raw)[0])
