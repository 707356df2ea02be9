"""The fast write path (evidence.bulk): the rows it writes are exactly those bulk_create / bulk_update write, and they
belong to the caller's transaction (a rollback removes them; a duplicate identity fails as an IntegrityError)."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.db import IntegrityError, transaction

from yipanqi.evidence import bulk, merkle
from yipanqi.evidence.models import Deposit, Tile

pytestmark = pytest.mark.django_db

DEPOSIT_FIELDS = [f.attname for f in Deposit._meta.concrete_fields]
TILE_FIELDS = [f.attname for f in Tile._meta.concrete_fields]
MOMENT = datetime.datetime(2026, 11, 21, 8, 30, 15, 123456, tzinfo=datetime.UTC)


def _deposits(agency, count: int = 5, start: int = 0) -> list[Deposit]:
    """Deposits with every kind of value: an agency and none (the platform), a Chinese case reference and none, a
    source and none, microseconds in the time."""
    made = []
    for n in range(start, start + count):
        content = hashlib.sha256(f"证据{n}".encode()).hexdigest()
        made.append(
            Deposit(
                index=n,
                identity=hashlib.sha256(f"identity {n}".encode()).hexdigest(),
                leaf_hash=merkle.leaf_hash(content.encode()),
                content_hash=content,
                algorithm="sha256",
                media_type="application/pdf",
                agency=agency if n % 2 == 0 else None,
                agency_label=f"{agency.pk}:{agency.name}" if n % 2 == 0 else "0:yipanqi",
                depositor=f"user:{n}",
                deposited_at=MOMENT + datetime.timedelta(microseconds=n),
                case_ref="（2026）川01执123号" if n % 3 == 0 else "",
                salt=f"{n:032x}",
                source="api" if n % 2 == 0 else "",
            )
        )
    return made


def _rows(model, fields) -> list[tuple]:
    return [
        tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
        for row in model.objects.order_by("pk").values_list(*fields)
    ]


def _stored(model) -> list[tuple]:
    """The rows as the database keeps them (a time as SQLite's text, say), not as Django reads them back."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} ORDER BY 1")  # noqa: S608 (a model's table)
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall()]


def test_insert_deposits_writes_what_bulk_create_writes(owner):
    Deposit.objects.bulk_create(_deposits(owner.agency))
    expected, stored = _rows(Deposit, DEPOSIT_FIELDS), _stored(Deposit)
    Deposit.objects.all().delete()

    deposits = _deposits(owner.agency)
    bulk.insert_deposits(deposits)
    assert _rows(Deposit, DEPOSIT_FIELDS) == expected
    assert _stored(Deposit) == stored
    assert len(expected) == 5 and expected[0][DEPOSIT_FIELDS.index("agency_id")] == owner.agency_id
    assert all(not d._state.adding and d._state.db == "default" for d in deposits)
    # read back through the model: the leaf rebuilt from the columns is the one hashed
    stored = Deposit.objects.get(index=3)
    assert stored.leaf().case == "（2026）川01执123号" and stored.deposited_at == MOMENT + datetime.timedelta(
        microseconds=3
    )


def test_insert_deposits_of_nothing_writes_nothing(owner):
    bulk.insert_deposits([])
    assert not Deposit.objects.exists()


def test_deposits_are_part_of_the_callers_transaction(owner):
    bulk.insert_deposits(_deposits(owner.agency, 2))
    with pytest.raises(RuntimeError), transaction.atomic():
        bulk.insert_deposits(_deposits(owner.agency, 3, start=2))
        assert Deposit.objects.count() == 5  # visible inside the transaction that wrote them
        raise RuntimeError("roll back")
    assert sorted(Deposit.objects.values_list("index", flat=True)) == [0, 1]


def test_a_duplicate_identity_is_an_integrity_error_and_writes_nothing(owner):
    bulk.insert_deposits(_deposits(owner.agency, 2))
    again = _deposits(owner.agency, 2, start=5)
    again[1].identity = Deposit.objects.get(index=0).identity
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_deposits(again)
    assert sorted(Deposit.objects.values_list("index", flat=True)) == [0, 1]


def _tiles(widths: dict[int, int]) -> list[Tile]:
    tiles = []
    for index, width in widths.items():
        hashes = b"".join(hashlib.sha256(f"{index}/{n}".encode()).digest() for n in range(2 * width - 1))
        tiles.append(Tile(key=index, level=0, index=index, width=width, hashes=hashes))
    return tiles


def test_write_tiles_writes_what_bulk_create_and_bulk_update_write():
    Tile.objects.bulk_create(_tiles({0: 256, 1: 256, 2: 3, 3: 1}))
    Tile.objects.bulk_update(_tiles({2: 7, 3: 2}), ["width", "hashes"])
    Tile.objects.bulk_create(_tiles({4: 5}))
    expected = _rows(Tile, TILE_FIELDS)
    Tile.objects.all().delete()

    bulk.write_tiles(_tiles({0: 256, 1: 256, 2: 3, 3: 1}), [])
    bulk.write_tiles(_tiles({4: 5}), _tiles({2: 7, 3: 2}))
    assert _rows(Tile, TILE_FIELDS) == expected
    assert [row[TILE_FIELDS.index("width")] for row in expected] == [256, 256, 7, 2, 5]


def test_tiles_are_part_of_the_callers_transaction():
    bulk.write_tiles(_tiles({0: 2}), [])
    before = _rows(Tile, TILE_FIELDS)
    with pytest.raises(RuntimeError), transaction.atomic():
        bulk.write_tiles(_tiles({1: 4}), _tiles({0: 3}))
        assert Tile.objects.get(key=0).width == 3 and Tile.objects.count() == 2
        raise RuntimeError("roll back")
    assert _rows(Tile, TILE_FIELDS) == before


def test_existing_identities_finds_exactly_the_stored_ones(owner):
    deposits = _deposits(owner.agency, 1200)
    bulk.insert_deposits(deposits)
    stored = {d.identity for d in deposits[::7]}
    unknown = {hashlib.sha256(f"unknown {n}".encode()).hexdigest() for n in range(1500)}
    assert bulk.existing_identities(stored | unknown) == stored
    assert bulk.existing_identities(unknown) == set()
    assert bulk.existing_identities([]) == set()
