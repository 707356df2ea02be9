"""The test database as the session set it up (migrations, the directory demo), kept aside and put back in a moment.

A transactional test (``transaction=True``, the live server of the browser tests) ends with a flush that empties every
table; rebuilding the directory afterwards (``load_demo``: 3,200 regions, 16,000 agencies) takes 10–15 s a test.
Putting the snapshot back takes milliseconds on SQLite and about a second on PostgreSQL, and gives exactly the state
the other tests start from.

SQLite (the in-memory test database): the backup API copies the whole database to a second in-memory database and
back. PostgreSQL: every non-empty table is copied into a schema of its own (outside the search path, so flushes and
introspection never see it); restoring empties the Django tables and copies the rows back in one transaction (the
foreign keys are deferrable, checked at the commit; a superuser skips the checks of rows that were consistent when
copied), then sets the sequences of those tables after the restored ids.
"""

from __future__ import annotations

import sqlite3

SCHEMA = "yq_test_snapshot"
_taken: dict[str, object] = {}


def take() -> None:
    """Keep the database's current contents (call it once, right after the session set the database up)."""
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        _taken["sqlite"] = copy
    elif connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
        copied = []
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {SCHEMA}")
            for table in tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # noqa: S608 - Django's own tables
                if cursor.fetchone()[0]:
                    cursor.execute(f"CREATE TABLE {SCHEMA}.{quote(table)} AS TABLE {quote(table)}")
                    copied.append(table)
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = bool(cursor.fetchone()[0])
        _taken["postgresql"] = (tables, copied, superuser)


def available() -> bool:
    from django.db import connection

    return connection.vendor in _taken


def restore() -> None:
    """Put the snapshot back: afterwards the database holds exactly what it held when the snapshot was taken."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.color import no_style
    from django.db import connection, transaction

    assert not connection.in_atomic_block, "restore the snapshot outside of any transaction"
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        _taken["sqlite"].backup(connection.connection)
    else:
        quote = connection.ops.quote_name
        tables, copied, superuser = _taken["postgresql"]
        models = [model for model in apps.get_models(include_auto_created=True) if model._meta.db_table in copied]
        with transaction.atomic(), connection.cursor() as cursor:
            if superuser:  # the rows were consistent when copied: no need to check each foreign key again
                cursor.execute("SET LOCAL session_replication_role = replica")
            # After a flush only a few tables hold rows (content types, permissions): deleting those is cheaper than
            # truncating every table.
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608 - Django's own tables
                    for table in tables
                ),
                tables,
            )
            for (table,) in cursor.fetchall():
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
            for table in copied:
                cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {SCHEMA}.{quote(table)}")  # noqa: S608
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
    # The flush's post_migrate signal made new content types; the cache must forget their ids.
    ContentType.objects.clear_cache()
