"""The log's fast write path: deposits and tiles written in bulk inside the caller's transaction.

On PostgreSQL the rows go in with ``COPY … FROM STDIN (FORMAT BINARY)`` over the connection Django already holds (so
they are part of the current transaction: a rollback removes them, and a unique violation fails the statement like an
INSERT would). On SQLite deposits go in by one prepared INSERT executed per row; tiles (and anything on another
database) by ``bulk_create`` / ``bulk_update``.

Why: ``bulk_create`` of 10,000 deposits builds one multi-row INSERT per batch, and Django's compiler turns every
value into a parameter (``get_db_prep_save`` per field per row); that took most of a 10,000-deposit batch's time.
COPY sends the values as they are, in PostgreSQL's binary format.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence

from django.db import DEFAULT_DB_ALIAS, connections

from .models import Deposit, Tile

# Columns in table order, with the PostgreSQL type COPY BINARY is told for each (so psycopg needs no guessing).
_DEPOSIT_COLUMNS = (
    ("index", "int8"),
    ("identity", "varchar"),
    ("leaf_hash", "bytea"),
    ("content_hash", "varchar"),
    ("algorithm", "varchar"),
    ("media_type", "varchar"),
    ("agency_id", "int8"),
    ("agency_label", "varchar"),
    ("depositor", "varchar"),
    ("deposited_at", "timestamptz"),
    ("case_ref", "varchar"),
    ("salt", "varchar"),
    ("source", "varchar"),
)
_TILE_COLUMNS = (("key", "int8"), ("level", "int2"), ("index", "int8"), ("width", "int2"), ("hashes", "bytea"))
_BATCH = 1000
_IN_CHUNK = 500  # SQLite allows 999 parameters in older builds


def _copy_sql(table: str, columns) -> str:
    names = ", ".join(f'"{name}"' for name, _type in columns)
    return f'COPY "{table}" ({names}) FROM STDIN (FORMAT BINARY)'


def _copy(connection, table: str, columns, rows) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table`` on Django's own psycopg connection."""
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with (
        connection.wrap_database_errors,  # psycopg's errors as Django's (IntegrityError on a duplicate identity)
        connection.connection.cursor() as cursor,
        cursor.copy(_copy_sql(table, columns)) as copy,
    ):
        copy.set_types([type_ for _name, type_ in columns])
        write = copy.write_row
        for row in rows:
            write(row)


def _saved(objects: Sequence, alias: str) -> None:
    """Mark the instances as saved, as bulk_create does."""
    for obj in objects:
        state = obj._state
        state.adding = False
        state.db = alias


def insert_deposits(deposits: Sequence[Deposit], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT ``deposits`` (every field set, ``index`` included) in the current transaction."""
    if not deposits:
        return
    connection = connections[using]
    if connection.vendor == "sqlite":
        _insert_sqlite(connection, deposits)
    elif connection.vendor == "postgresql":
        _copy(connection, Deposit._meta.db_table, _DEPOSIT_COLUMNS, _deposit_rows(deposits))
    else:
        Deposit.objects.using(using).bulk_create(deposits, batch_size=_BATCH)
        return
    _saved(deposits, using)


def _deposit_rows(deposits: Iterable[Deposit], stored_time: Callable | None = None) -> Iterator[tuple]:
    """Each deposit's values in ``_DEPOSIT_COLUMNS`` order (its time through ``stored_time`` when given)."""
    for d in deposits:
        yield (
            d.index,
            d.identity,
            d.leaf_hash,
            d.content_hash,
            d.algorithm,
            d.media_type,
            d.agency_id,
            d.agency_label,
            d.depositor,
            stored_time(d.deposited_at) if stored_time else d.deposited_at,
            d.case_ref,
            d.salt,
            d.source,
        )


def _insert_sqlite(connection, deposits: Sequence[Deposit]) -> None:
    """One prepared INSERT executed for every row (``executemany``): what bulk_create writes, without Django turning
    every value into a parameter of a 1,000-row statement. The times are adapted as Django adapts them (a batch's new
    deposits share one)."""
    table = connection.ops.quote_name(Deposit._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name, _type in _DEPOSIT_COLUMNS)
    marks = ", ".join(["%s"] * len(_DEPOSIT_COLUMNS))
    adapt = connection.ops.adapt_datetimefield_value
    times: dict = {}

    def stored_time(moment):
        if moment not in times:
            times[moment] = adapt(moment)
        return times[moment]

    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 (fixed names)
            list(_deposit_rows(deposits, stored_time)),
        )


def existing_identities(identities: Collection[str], *, using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """Which of ``identities`` are already in the log: on PostgreSQL one query joining an array to the unique index
    (a 10,000-item IN list costs more to build and plan than to run, and ``= ANY(array)`` lets the planner choose a
    scan of the whole table), chunks of IN lists elsewhere."""
    identities = list(identities)
    if not identities:
        return set()
    connection = connections[using]
    table = connection.ops.quote_name(Deposit._meta.db_table)
    found: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT d.identity FROM unnest(%s::varchar[]) AS wanted(identity) "  # noqa: S608 (fixed names)
                f"JOIN {table} AS d ON d.identity = wanted.identity",
                [identities],
            )
            return {row[0] for row in cursor.fetchall()}
        for start in range(0, len(identities), _IN_CHUNK):
            chunk = identities[start : start + _IN_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT identity FROM {table} WHERE identity IN ({marks})", chunk)  # noqa: S608
            found.update(row[0] for row in cursor.fetchall())
    return found


def write_tiles(inserts: Sequence[Tile], updates: Sequence[Tile], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT the new tiles and rewrite ``width`` and ``hashes`` of the grown ones, in the current transaction.

    PostgreSQL: the inserts by COPY, the updates by one ``UPDATE … FROM (VALUES …)`` (a batch grows at most the
    right-most tile of each tile level: a handful of rows)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        if inserts:
            Tile.objects.using(using).bulk_create(inserts, batch_size=500)
        if updates:
            Tile.objects.using(using).bulk_update(updates, ["width", "hashes"], batch_size=500)
        return
    if inserts:
        _copy(
            connection,
            Tile._meta.db_table,
            _TILE_COLUMNS,
            ((t.key, t.level, t.index, t.width, t.hashes) for t in inserts),
        )
        _saved(inserts, using)
    if updates:
        table = connection.ops.quote_name(Tile._meta.db_table)
        values = ", ".join(["(%s::bigint, %s::smallint, %s::bytea)"] * len(updates))
        params = [value for t in updates for value in (t.key, t.width, bytes(t.hashes))]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET width = v.width, hashes = v.hashes "  # noqa: S608 (fixed names)
                f"FROM (VALUES {values}) AS v(key, width, hashes) WHERE t.key = v.key",
                params,
            )
