"""Tiles: where the log keeps its perfect subtree hashes, and how nodes are read and written.

Tile (L, n) holds node levels 8L … 8L+7 above the 256 level-8L nodes n·256 … n·256+255 (see models.Tile). Its
``hashes`` are the complete nodes level by level: ``width`` nodes of level 8L, then ``width >> 1`` of the next level,
and so on to ``width >> 7``. A node (level, index) is in tile (level // 8, index >> (8 - level % 8)) at position
``index & (2^(8 - level % 8) - 1)`` of that tile's row ``level % 8``.

A complete node never changes and a tile only grows, so tiles are remembered in the process: complete ones answer
everything, partial ones the nodes they held when read (``lookup``); the sequencer reads partial tiles afresh. The
cache is emptied when a new log is started (``services._state``: a test's rolled-back log had other tiles).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from django.db import connection

from . import bulk
from .models import TILE_HEIGHT, TILE_WIDTH, Tile

HASH = 32
_CACHE_LIMIT = 4096  # complete tiles kept per process (16 KB each at most: 64 MB)
_cache: OrderedDict[int, tuple[int, bytes]] = OrderedDict()  # key: (width, hashes)


def tile_key(level: int, index: int) -> int:
    return (level << 56) | index


def locate(level: int, index: int) -> tuple[int, int, int, int]:
    """(tile level, tile index, row within the tile, position in the row) of node (level, index)."""
    row = level % TILE_HEIGHT
    shift = TILE_HEIGHT - row
    return level // TILE_HEIGHT, index >> shift, row, index & ((1 << shift) - 1)


def row_offset(width: int, row: int) -> int:
    """Where row ``row`` starts in the hashes of a tile ``width`` wide (in hashes)."""
    return _ROW_OFFSETS[width][row] if width <= TILE_WIDTH else sum(width >> k for k in range(row))


_ROW_OFFSETS = [[sum(width >> k for k in range(row)) for row in range(TILE_HEIGHT)] for width in range(TILE_WIDTH + 1)]


def _row_length(width: int, row: int) -> int:
    return width >> row


def node_from_tile(hashes: bytes, width: int, row: int, position: int) -> bytes | None:
    if position >= _row_length(width, row):
        return None
    start = (row_offset(width, row) + position) * HASH
    return bytes(hashes[start : start + HASH])


# The hash of each range of several perfect nodes a proof folded (merkle._serve): the right edge of the tree, shared
# by the proofs at one size. Like complete tiles, they never change; emptied with the tile cache, and when full.
_FOLDS_LIMIT = 4096
_folds: dict[tuple[tuple[int, int], ...], bytes] = {}


def folds() -> dict[tuple[tuple[int, int], ...], bytes]:
    if len(_folds) >= _FOLDS_LIMIT:
        _folds.clear()
    return _folds


def clear_cache() -> None:
    _cache.clear()
    _folds.clear()


def _remember(key: int, width: int, hashes: bytes) -> None:
    _cache[key] = (width, hashes)
    if len(_cache) > _CACHE_LIMIT:
        _cache.popitem(last=False)


def _fetch(keys: list[int]) -> dict[int, tuple[int, bytes]]:
    """Tiles by key from the database, in one query; each is remembered (a partial one as far as it went)."""
    found = {}
    if keys:
        with connection.cursor() as cursor:
            marks = ",".join(["%s"] * len(keys))
            cursor.execute(f"SELECT key, width, hashes FROM evidence_tile WHERE key IN ({marks})", keys)  # noqa: S608
            for key, width, hashes in cursor.fetchall():
                found[key] = (width, bytes(hashes))
                _remember(key, width, found[key][1])
    return found


def read_tiles(keys: Iterable[int]) -> dict[int, tuple[int, bytes]]:
    """Tiles by key as the database holds them now: (width, hashes). Complete tiles may come from the cache (they
    never change); partial ones are read, since they grow — the sequencer appends to what it reads here."""
    found: dict[int, tuple[int, bytes]] = {}
    wanted = []
    for key in set(keys):
        cached = _cache.get(key)
        if cached is not None and cached[0] == TILE_WIDTH:
            _cache.move_to_end(key)
            found[key] = cached
        else:
            wanted.append(key)
    found.update(_fetch(wanted))
    return found


def lookup(nodes: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hashes of perfect subtree nodes (level, index), read from their tiles in one query (or none).

    A node, once complete, never changes; a partial tile only grows. So any remembered tile — partial ones too —
    answers for the nodes it holds, and only tiles that lack a wanted node are read (the right edge of the tree is
    read again only after the log grew past what was remembered)."""
    result: dict[tuple[int, int], bytes] = {}
    missing: dict[tuple[int, int], tuple[int, int, int]] = {}
    cache = _cache
    offsets = _ROW_OFFSETS
    for node in nodes:  # locate() and node_from_tile() written out: a proof looks up some 25 nodes
        level, index = node
        row = level % TILE_HEIGHT
        shift = TILE_HEIGHT - row
        key = ((level // TILE_HEIGHT) << 56) | (index >> shift)
        position = index & ((1 << shift) - 1)
        cached = cache.get(key)
        if cached is not None and position < cached[0] >> row:
            start = (offsets[cached[0]][row] + position) * HASH
            result[node] = cached[1][start : start + HASH]
        else:
            missing[node] = (key, row, position)
    if missing:
        tiles = _fetch(list({key for key, _row, _position in missing.values()}))
        for node, (key, row, position) in missing.items():
            tile = tiles.get(key)
            value = node_from_tile(tile[1], tile[0], row, position) if tile else None
            if value is None:
                raise LookupError(f"node {node} is not stored: the log is smaller than this proof needs")
            result[node] = value
    return result


class TileWriter:
    """Collects the nodes a batch completes and writes the tiles they fall in (one read, one write per tile)."""

    def __init__(self) -> None:
        self.rows: dict[int, list[list[bytes]]] = {}
        self.places: dict[int, tuple[int, int]] = {}
        self.existing: set[int] = set()
        self.pending: list[tuple[int, int, bytes]] = []

    def extend(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        self.pending.extend(nodes)

    def _load(self) -> None:
        keys = {}
        for level, index, _value in self.pending:
            t_level, t_index, _row, _position = locate(level, index)
            keys[tile_key(t_level, t_index)] = (t_level, t_index)
        stored = read_tiles(keys)
        for key, place in keys.items():
            self.places[key] = place
            if key in stored:
                width, hashes = stored[key]
                self.existing.add(key)
                rows = []
                for row in range(TILE_HEIGHT):
                    start = row_offset(width, row) * HASH
                    rows.append(
                        [hashes[i : i + HASH] for i in range(start, start + _row_length(width, row) * HASH, HASH)]
                    )
                self.rows[key] = rows
            else:
                self.rows[key] = [[] for _ in range(TILE_HEIGHT)]

    def write(self) -> int:
        """Write every tile the added nodes changed; returns how many."""
        if not self.pending:
            return 0
        self._load()
        for level, index, value in self.pending:
            t_level, t_index, row, position = locate(level, index)
            nodes = self.rows[tile_key(t_level, t_index)][row]
            if position != len(nodes):
                raise RuntimeError(f"node {(level, index)} is not the next node of its tile row")
            nodes.append(value)
        inserts, updates = [], []
        for key, rows in self.rows.items():
            width = len(rows[0])
            hashes = b"".join(b"".join(row) for row in rows)
            t_level, t_index = self.places[key]
            target = updates if key in self.existing else inserts
            target.append(Tile(key=key, level=t_level, index=t_index, width=width, hashes=hashes))
        bulk.write_tiles(inserts, updates)
        count = len(inserts) + len(updates)
        self.pending = []
        return count
