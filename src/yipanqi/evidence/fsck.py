"""The full check of the evidence log (``yipanqi evidence fsck``): recompute everything from the deposits and compare.

- every deposit: consecutive indexes 0 … size-1, its leaf re-encoded from the columns hashes to the stored leaf
  hash, its identity recomputed matches;
- the tree rebuilt leaf by leaf: every perfect node equals the node stored in its tile, no tile holds more or other
  nodes, the log state's size, root and right edge match;
- every checkpoint: its root equals the rebuilt root of its size, its note is the checkpoint of that size and root,
  signed by a key the log knows (current or previous); every cosignature verifies with its witness's key.

Memory stays small: tiles are compared as they complete and the deposits are read in chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from . import keys, leaves, merkle, notes, storage
from .models import TILE_HEIGHT, TILE_WIDTH, Checkpoint, Cosignature, Deposit, LogState, Tile

_CHUNK = 5000
_MAX_PROBLEMS = 100


@dataclass
class Report:
    size: int = 0
    deposits: int = 0
    tiles: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == _MAX_PROBLEMS:
            self.problems.append("… (more problems not listed)")


def _expected_tiles(report: Report):
    """Collects rebuilt nodes per tile; compares a tile with the stored one when it completes."""
    building: dict[tuple[int, int], list[list[bytes]]] = {}
    seen: set[int] = set()

    def compare(place: tuple[int, int], rows: list[list[bytes]]) -> None:
        key = storage.tile_key(*place)
        seen.add(key)
        stored = Tile.objects.filter(key=key).values_list("width", "hashes").first()
        expected = b"".join(b"".join(row) for row in rows)
        if stored is None:
            report.problem(f"tile {place[0]}/{place[1]} is missing")
        elif stored[0] != len(rows[0]) or bytes(stored[1]) != expected:
            report.problem(f"tile {place[0]}/{place[1]} differs from the tree rebuilt from the deposits")
        report.tiles += 1

    def add(level: int, index: int, value: bytes) -> None:
        t_level, t_index, row, _position = storage.locate(level, index)
        rows = building.setdefault((t_level, t_index), [[] for _ in range(TILE_HEIGHT)])
        rows[row].append(value)
        if row == TILE_HEIGHT - 1 and len(rows[0]) == TILE_WIDTH:
            compare((t_level, t_index), building.pop((t_level, t_index)))

    def finish() -> None:
        for place, rows in sorted(building.items()):
            compare(place, rows)
        extra = Tile.objects.exclude(key__in=seen).count() if len(seen) < 50_000 else 0
        if extra:
            report.problem(f"{extra} stored tiles hold nodes of no deposit")

    return add, finish


def run(progress: Callable[[int, int], None] | None = None) -> Report:
    report = Report()
    state = LogState.objects.filter(pk=1).first()
    size = state.size if state else 0
    report.size = size
    checkpoints = {c.size: c for c in Checkpoint.objects.all()}
    verifiers = [notes.Verifier.from_key(key) for key in keys.verifier_keys()]
    add_node, finish_tiles = _expected_tiles(report)
    tree = merkle.CompactRange()
    if 0 in checkpoints:
        _check_checkpoint(report, checkpoints[0], merkle.EMPTY_ROOT, verifiers)
    expected_index = 0
    last = -1
    while True:
        chunk = list(Deposit.objects.filter(index__gt=last).order_by("index")[:_CHUNK])
        if not chunk:
            break
        for deposit in chunk:
            if deposit.index != expected_index:
                report.problem(f"deposit {expected_index} is missing (the next one is {deposit.index})")
                expected_index = deposit.index
            leaf_hash = merkle.leaf_hash(deposit.leaf().encode())
            if leaf_hash != bytes(deposit.leaf_hash):
                report.problem(f"deposit {deposit.index}: its leaf does not hash to the stored leaf hash")
            identity = leaves.identity(
                deposit.agency_id or 0, deposit.algorithm, deposit.content_hash, deposit.case_ref
            )
            if identity != deposit.identity:
                report.problem(f"deposit {deposit.index}: its identity does not match its fields")
            for node in tree.append(bytes(deposit.leaf_hash)):
                add_node(*node)
            expected_index += 1
            report.deposits += 1
            if tree.size in checkpoints:
                _check_checkpoint(report, checkpoints[tree.size], tree.root(), verifiers)
        last = chunk[-1].index
        if progress:
            progress(report.deposits, size)
    finish_tiles()
    if report.deposits != size:
        report.problem(f"the log state says {size} deposits, there are {report.deposits}")
    if state is not None:
        if bytes(state.root) != tree.root():
            report.problem("the log state's root is not the root rebuilt from the deposits")
        if bytes(state.frontier or b"") != b"".join(value for _l, _i, value in tree.frontier):
            report.problem("the log state's right edge is not the one rebuilt from the deposits")
    beyond = [s for s in checkpoints if s > report.deposits]
    if beyond:
        report.problem(f"checkpoints of sizes beyond the log: {', '.join(map(str, sorted(beyond)))}")
    for cosignature in Cosignature.objects.select_related("checkpoint", "witness"):
        body = cosignature.checkpoint.note.split("\n\n", 1)[0] + "\n"
        try:
            notes.verify_cosignature(body, cosignature.line, cosignature.witness.verifier_key)
        except notes.NoteError as exc:
            report.problem(
                f"cosignature of {cosignature.witness.name} on checkpoint {cosignature.checkpoint.size}: {exc}"
            )
        report.cosignatures += 1
    return report


def _check_checkpoint(report: Report, checkpoint: Checkpoint, root: bytes, verifiers) -> None:
    report.checkpoints += 1
    where = f"checkpoint {checkpoint.size}"
    if bytes(checkpoint.root) != root:
        report.problem(f"{where}: its root is not the root of the log at that size")
    try:
        body, _signatures = notes.open_note(checkpoint.note, verifiers)
        parsed = notes.parse_checkpoint(body)
    except notes.NoteError as exc:
        report.problem(f"{where}: {exc}")
        return
    if (parsed.origin, parsed.size, parsed.root) != (settings.EVIDENCE_ORIGIN, checkpoint.size, root):
        report.problem(f"{where}: the signed note names another origin, size or root")
