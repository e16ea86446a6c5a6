"""Java collection iteration orders, so describe() prints nodes, stores and topics exactly as Kafka.

Kafka Streams' TopologyDescription text depends on java.util.HashSet/HashMap iteration order
(String.hashCode buckets) and on TreeSet insertion with a comparator whose inputs change while
the set is being filled. These helpers reproduce both, deterministically, without a JVM.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_DEFAULT_CAPACITY = 16
_LOAD_FACTOR = 0.75


def java_string_hash(text: str) -> int:
    """java.lang.String.hashCode(): s[0]*31^(n-1) + ... over UTF-16 code units, as a signed int."""
    h = 0
    for unit in _utf16_units(text):
        h = (31 * h + unit) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _utf16_units(text: str) -> Iterator[int]:
    for char in text:
        code = ord(char)
        if code < 0x10000:
            yield code
        else:
            code -= 0x10000
            yield 0xD800 + (code >> 10)
            yield 0xDC00 + (code & 0x3FF)


def _spread(h: int) -> int:
    u = h & 0xFFFFFFFF
    return u ^ (u >> 16)


def _table_size_for(cap: int) -> int:
    n = 1
    while n < cap:
        n <<= 1
    return n


def hash_order(keys: Iterable[str], initial_capacity: int = _DEFAULT_CAPACITY) -> list[str]:
    """Iteration order of a java.util.HashSet<String>/HashMap<String, ?> filled with keys in order.

    Buckets are visited by index in the final table; keys sharing a bucket keep insertion order
    (a resize split preserves relative order). Treeified bins (8+ collisions) are not modelled.
    """
    unique: list[str] = []
    seen: set[str] = set()
    for key in keys:
        if key not in seen:
            seen.add(key)
            unique.append(key)
    capacity = _table_size_for(max(initial_capacity, 1))
    while len(unique) > capacity * _LOAD_FACTOR:
        capacity <<= 1
    mask = capacity - 1
    indexed = [(_spread(java_string_hash(k)) & mask, i, k) for i, k in enumerate(unique)]
    return [k for _, _, k in sorted(indexed)]


def hash_set_copy_order(keys: list[str]) -> list[str]:
    """Order of `new HashSet<>(collection)`: capacity max(size/.75 + 1, 16), then addAll."""
    capacity = max(int(len(keys) / _LOAD_FACTOR) + 1, _DEFAULT_CAPACITY)
    return hash_order(keys, capacity)


def java_set_string(items: Iterable[str]) -> str:
    """AbstractCollection.toString(): "[a, b]"."""
    return "[" + ", ".join(items) + "]"


class _TreeEntry(Generic[T]):
    __slots__ = ("key", "left", "right", "parent", "red")

    def __init__(self, key: T, parent: _TreeEntry[T] | None) -> None:
        self.key = key
        self.left: _TreeEntry[T] | None = None
        self.right: _TreeEntry[T] | None = None
        self.parent = parent
        self.red = False


class JavaTreeSet(Generic[T]):
    """java.util.TreeSet with a comparator: a red-black tree whose shape follows Java's TreeMap,
    so a comparator whose answers drift over time yields the same order as in Java."""

    def __init__(self, compare: Callable[[T, T], int]) -> None:
        self._compare = compare
        self._root: _TreeEntry[T] | None = None
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, key: T) -> bool:
        """TreeMap.put: walk down with the comparator; an equal element is not added again."""
        t = self._root
        if t is None:
            self._root = _TreeEntry(key, None)
            self._size = 1
            return True
        while True:
            parent = t
            cmp = self._compare(key, t.key)
            if cmp < 0:
                t = t.left
            elif cmp > 0:
                t = t.right
            else:
                return False
            if t is None:
                break
        entry = _TreeEntry(key, parent)
        if cmp < 0:
            parent.left = entry
        else:
            parent.right = entry
        self._fix_after_insertion(entry)
        self._size += 1
        return True

    def __iter__(self) -> Iterator[T]:
        stack: list[_TreeEntry[T]] = []
        node = self._root
        while stack or node is not None:
            while node is not None:
                stack.append(node)
                node = node.left
            node = stack.pop()
            yield node.key
            node = node.right

    # --- CLR red-black balancing, as java.util.TreeMap.fixAfterInsertion ---
    @staticmethod
    def _red(p: _TreeEntry[T] | None) -> bool:
        return p is not None and p.red

    def _rotate_left(self, p: _TreeEntry[T] | None) -> None:
        if p is None:
            return
        r = p.right
        assert r is not None
        p.right = r.left
        if r.left is not None:
            r.left.parent = p
        r.parent = p.parent
        if p.parent is None:
            self._root = r
        elif p.parent.left is p:
            p.parent.left = r
        else:
            p.parent.right = r
        r.left = p
        p.parent = r

    def _rotate_right(self, p: _TreeEntry[T] | None) -> None:
        if p is None:
            return
        left = p.left
        assert left is not None
        p.left = left.right
        if left.right is not None:
            left.right.parent = p
        left.parent = p.parent
        if p.parent is None:
            self._root = left
        elif p.parent.right is p:
            p.parent.right = left
        else:
            p.parent.left = left
        left.right = p
        p.parent = left

    def _fix_after_insertion(self, x: _TreeEntry[T]) -> None:
        x.red = True
        while x is not None and x is not self._root and x.parent is not None and x.parent.red:
            parent = x.parent
            grand = parent.parent
            assert grand is not None
            if parent is grand.left:
                uncle = grand.right
                if self._red(uncle):
                    assert uncle is not None
                    parent.red = False
                    uncle.red = False
                    grand.red = True
                    x = grand
                else:
                    if x is parent.right:
                        x = parent
                        self._rotate_left(x)
                    assert x.parent is not None and x.parent.parent is not None
                    x.parent.red = False
                    x.parent.parent.red = True
                    self._rotate_right(x.parent.parent)
            else:
                uncle = grand.left
                if self._red(uncle):
                    assert uncle is not None
                    parent.red = False
                    uncle.red = False
                    grand.red = True
                    x = grand
                else:
                    if x is parent.left:
                        x = parent
                        self._rotate_right(x)
                    assert x.parent is not None and x.parent.parent is not None
                    x.parent.red = False
                    x.parent.parent.red = True
                    self._rotate_left(x.parent.parent)
        assert self._root is not None
        self._root.red = False
