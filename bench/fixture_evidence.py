"""The evidence benchmark's worker process (see bench_evidence.py). Each command prints one JSON line.

    fixture_evidence.py setup                  migrate, the regions, one agency (成都), its user and an API key with
                                               evidence:write
    fixture_evidence.py tiles N                the tiles of an N-leaf log written with COPY (leaf i's hash is
                                               merkle.leaf_hash(i as 8 bytes)), its LogState and a signed checkpoint;
                                               then random inclusion proofs are checked against the root
    fixture_evidence.py proofs SECONDS         selectors.inclusion_proof(random index, latest checkpoint) in a loop
    fixture_evidence.py deposits BATCHES FILE  services.deposit of 10,000 new hashes, BATCHES times (each one
                                               transaction); writes one deposit's receipt to FILE
    fixture_evidence.py pure N RECEIPT         no database: merkle.root over N leaves, pymerkle appending them (in
                                               memory, and to its SQLite tree 10,000 a transaction), verify_inclusion
                                               at a 24-hash proof, verify_receipt of RECEIPT

Knobs: BENCH_PROFILE=deposits prints a cProfile of one deposit batch to stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time

BATCH = 10_000
PROOF_CHECKS = 50
TILE = 256


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    import django

    django.setup()
    from django.conf import settings

    if settings.DEBUG:
        sys.exit("fixture_evidence: DEBUG must be off for a benchmark (set DEBUG=0)")


def out(data: dict) -> None:
    print(json.dumps(data), flush=True)


def leaf(index: int) -> bytes:
    from yipanqi.evidence import merkle

    return merkle.leaf_hash(index.to_bytes(8, "big"))


# ---------------------------------------------------------------------------------------------------------- setup


def setup() -> dict:
    from django.core.management import call_command

    from yipanqi.directory.models import Agency, AgencyType, ApiKey, Region, User
    from yipanqi.directory.services import hash_secret, load_regions

    call_command("migrate", verbosity=0)
    load_regions()
    region = Region.objects.get(code="510100")
    agency = Agency.objects.create(
        name="成都市中级人民法院", type=AgencyType.COURT, level=region.level, region=region, is_standard=True
    )
    user = User.objects.create(username="evidence-bench", full_name="存证基准", agency=agency)
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    # made directly: the scope may not be in the issuing form's list yet
    ApiKey.objects.create(
        agency=agency, name="存证基准", prefix=prefix, hashed_secret=hash_secret(secret), scopes=["evidence:write"]
    )
    return {"token": f"yq_{prefix}.{secret}", "user": user.pk, "agency": agency.name}


# ---------------------------------------------------------------------------------------------------------- tiles


def _tile_hashes(base: list[bytes]) -> tuple[bytes, bytes | None]:
    """A tile's hashes (rows 0…7 over ``base``, its lowest-level nodes) and, for a full tile, the node above it."""
    sha = hashlib.sha256
    row = base
    parts = [b"".join(row)]
    for _ in range(7):
        row = [sha(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row) - 1, 2)]
        parts.append(b"".join(row))
    top = sha(b"\x01" + row[0] + row[1]).digest() if len(base) == TILE else None
    return b"".join(parts), top


def tiles(size: int) -> dict:
    """Write the tiles of a log of ``size`` leaves directly (COPY), as the sequencer would have written them."""
    from django.db import connection, transaction

    from yipanqi.evidence import merkle, selectors, services, storage
    from yipanqi.evidence.models import Checkpoint, LogState, Tile

    started = time.perf_counter()
    if LogState.objects.exists():
        raise SystemExit("fixture_evidence tiles: the log is not empty")
    sha = hashlib.sha256
    written = 0
    with transaction.atomic():
        connection.ensure_connection()
        columns = '"key", "level", "index", "width", "hashes"'
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {Tile._meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["int8", "int2", "int8", "int2", "bytea"])
            level_nodes: list[bytes] = []  # nodes of level 8L above the full tiles of tile level L
            count = size
            for t_level in range(8):
                if count == 0:
                    break
                above = []
                for t_index in range((count + TILE - 1) // TILE):
                    start = t_index * TILE
                    end = min(start + TILE, count)
                    if t_level == 0:
                        base = [sha(b"\x00" + i.to_bytes(8, "big")).digest() for i in range(start, end)]
                    else:
                        base = level_nodes[start:end]
                    hashes, top = _tile_hashes(base)
                    copy.write_row((storage.tile_key(t_level, t_index), t_level, t_index, end - start, hashes))
                    written += len(hashes)
                    if top is not None:
                        above.append(top)
                level_nodes = above
                count = len(above)
        copied = time.perf_counter() - started
        frontier = storage.lookup(set(merkle.frontier_nodes(size)))
        hashes = [frontier[node] for node in merkle.frontier_nodes(size)]
        state = LogState.objects.create(pk=1, size=size, root=merkle.fold(hashes), frontier=b"".join(hashes))
        services.sign_checkpoint(state)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE evidence_tile")
    built = time.perf_counter() - started
    at = Checkpoint.objects.get(size=size)
    rng = random.Random(7)
    for index in [0, size - 1, *(rng.randrange(size) for _ in range(PROOF_CHECKS))]:
        merkle.verify_inclusion(leaf(index), index, size, selectors.inclusion_proof(index, at), bytes(at.root))
    if size <= 1_000_000:  # small enough to recompute: the root of the tiles is the RFC 9162 root of the leaves
        assert bytes(at.root) == merkle.root([leaf(i) for i in range(size)])
    return {
        "size": size,
        "tiles": Tile.objects.count(),
        "megabytes": written / 1e6,
        "copy_s": copied,
        "build_s": built,
        "proof_hashes": len(selectors.inclusion_proof(size // 3, at)),
    }


# ---------------------------------------------------------------------------------------------------------- proofs


def proofs(seconds: float) -> dict:
    from django.db import connection

    from yipanqi.evidence import selectors, storage

    at = selectors.checkpoint()
    size = at.size
    rng = random.Random(os.getpid())
    storage.clear_cache()
    done = 0
    began = time.perf_counter()
    deadline = began + seconds
    while True:
        for _ in range(100):
            selectors.inclusion_proof(rng.randrange(size), at)
        done += 100
        now = time.perf_counter()
        if now >= deadline:
            break
    connection.close()
    return {"proofs": done, "seconds": now - began, "per_s": done / (now - began), "size": size}


# ---------------------------------------------------------------------------------------------------------- deposits


def deposits(batches: int, receipt_file: str) -> dict:
    import cProfile
    import pstats

    from django.db import connection

    from yipanqi.directory.models import User
    from yipanqi.evidence import bulk, selectors, services
    from yipanqi.evidence.models import LogState

    user = User.objects.select_related("agency").get(username="evidence-bench")
    state = LogState.objects.filter(pk=1).first()
    first_size = state.size if state else 0

    def items() -> list[dict]:
        return [{"hash": secrets.token_hex(32), "media_type": "application/pdf"} for _ in range(BATCH)]

    services.deposit(acting_user=user, items=items()[:100])  # warm-up: key, caches, the state row
    times = []
    for batch in range(batches):
        payload = items()
        profile = os.environ.get("BENCH_PROFILE", "") == "deposits" and batch == batches - 1
        profiler = cProfile.Profile() if profile else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        result = services.deposit(acting_user=user, items=payload)
        if profiler:
            profiler.disable()
        times.append(time.perf_counter() - began)
        if len(result) != BATCH or not all(created for _d, created in result):
            raise SystemExit("fixture_evidence deposits: a batch was not all new deposits")
        if profiler:
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    # timing the parts of one more batch: validation, sequencing + integration (the transaction), and within it the
    # COPY of the deposit rows into their table and its indexes (the database's share: a ceiling for any batch)
    payload = items()
    began = time.perf_counter()
    prepared = services.prepare(payload)
    prepare_s = time.perf_counter() - began
    entries = [(p, user.agency, services.depositor_of(user), "api") for p in prepared]
    copy_s = []
    insert_deposits = bulk.insert_deposits

    def timed_insert(deposits_, **kwargs):
        started = time.perf_counter()
        insert_deposits(deposits_, **kwargs)
        copy_s.append(time.perf_counter() - started)

    bulk.insert_deposits = timed_insert
    try:
        began = time.perf_counter()
        sample = services.integrate(entries)[-1][0]
        integrate_s = time.perf_counter() - began
    finally:
        bulk.insert_deposits = insert_deposits
    state = LogState.objects.get(pk=1)
    expected = first_size + 100 + (batches + 1) * BATCH
    if state.size != expected:
        raise SystemExit(f"fixture_evidence deposits: the log has {state.size} leaves, expected {expected}")
    with open(receipt_file, "w", encoding="utf-8") as handle:
        json.dump(selectors.receipt(sample), handle, ensure_ascii=False)
    connection.close()
    return {
        "vendor": connection.vendor,
        "batches": batches,
        "batch_s": times,
        "per_s": BATCH * len(times) / sum(times),
        "median_per_s": BATCH / statistics.median(times),
        "prepare_s": prepare_s,
        "integrate_s": integrate_s,
        "copy_s": sum(copy_s),
        "size": state.size,
    }


# ---------------------------------------------------------------------------------------------------------- pure


def _rate(function, minimum: float = 1.0) -> float:
    """Calls per second of ``function`` (taking no argument), over at least ``minimum`` seconds; best of 3."""
    rates = []
    for _ in range(3):
        count = 0
        began = time.perf_counter()
        while True:
            for _ in range(50):
                function()
            count += 50
            elapsed = time.perf_counter() - began
            if elapsed >= minimum / 3:
                break
        rates.append(count / elapsed)
    return max(rates)


def pure(size: int, receipt_file: str) -> dict:
    import pymerkle

    from yipanqi.evidence import merkle, receipts

    data = [i.to_bytes(8, "big") for i in range(size)]
    leaf_hashes = [merkle.leaf_hash(d) for d in data]
    figures = {"size": size, "root_s": [], "pymerkle_s": [], "compact_s": []}
    for _ in range(3):  # interleaved, best of three each
        began = time.perf_counter()
        hashed = [merkle.leaf_hash(d) for d in data]
        ours = merkle.root(hashed)
        figures["root_s"].append(time.perf_counter() - began)

        began = time.perf_counter()
        tree = merkle.CompactRange()
        tree.extend(merkle.leaf_hash(d) for d in data)
        compact = tree.root()
        figures["compact_s"].append(time.perf_counter() - began)

        began = time.perf_counter()
        theirs = pymerkle.InmemoryTree(algorithm="sha256")
        append = theirs.append_entry
        for d in data:
            append(d)
        figures["pymerkle_s"].append(time.perf_counter() - began)
        if not (ours == compact == theirs.get_root() == merkle.root(leaf_hashes)):
            raise SystemExit("fixture_evidence pure: pymerkle's root differs from the RFC 9162 root")
    # pymerkle's durable tree (SqliteTree, as shipped): the same data appended 10,000 a transaction. It stores the
    # leaves only, so its root and proofs are recomputed from all of them (timed once at the final size).
    with tempfile.TemporaryDirectory(prefix="pymerkle-") as folder:
        durable = pymerkle.SqliteTree(os.path.join(folder, "tree.db"), algorithm="sha256")
        figures["pymerkle_sqlite_batch_s"] = []
        for start in range(0, size, BATCH):
            began = time.perf_counter()
            durable.append_entries(data[start : start + BATCH])
            figures["pymerkle_sqlite_batch_s"].append(time.perf_counter() - began)
        began = time.perf_counter()
        durable_root = durable.get_root()
        figures["pymerkle_sqlite_root_s"] = time.perf_counter() - began
        began = time.perf_counter()
        durable.prove_inclusion(size // 3 + 1)  # pymerkle counts leaves from 1
        figures["pymerkle_sqlite_proof_s"] = time.perf_counter() - began
        durable.close()
    if durable_root != merkle.root(leaf_hashes):
        raise SystemExit("fixture_evidence pure: pymerkle's SQLite root differs from the RFC 9162 root")
    # verify_inclusion at a 24-hash proof: a leaf of a tree of 2^24 leaves (any proof of that length costs the same)
    proof_size = 1 << 24
    index = 5_000_001
    rng = random.Random(3)
    proof = [rng.randbytes(32) for _ in range(24)]
    leaf_hash = leaf_hashes[0]
    root = merkle.root_from_inclusion(index, proof_size, leaf_hash, proof)

    def verify():
        merkle.verify_inclusion(leaf_hash, index, proof_size, proof, root)

    figures["verify_per_s"] = _rate(verify, 3.0)
    with open(receipt_file, encoding="utf-8") as handle:
        receipt = json.load(handle)
    report = receipts.verify_receipt(receipt)
    if not report.valid:
        raise SystemExit(f"fixture_evidence pure: the receipt does not verify: {report.summary()}")
    figures["receipt_proof_hashes"] = len(receipt["inclusion_proof"])
    figures["receipt_per_s"] = _rate(lambda: receipts.verify_receipt(receipt), 3.0)
    return figures


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "pure":
        out(pure(int(argv[1]), argv[2]))
        return
    setup_django()
    if command == "setup":
        out(setup())
    elif command == "tiles":
        out(tiles(int(argv[1])))
    elif command == "proofs":
        out(proofs(float(argv[1])))
    elif command == "deposits":
        out(deposits(int(argv[1]), argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
