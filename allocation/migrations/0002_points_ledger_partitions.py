"""On PostgreSQL, the points ledger becomes a table partitioned by cycle (issue 7).

A cycle's entries then live in a partition of their own, ``allocation_pointsentry_c<cycle id>``,
which the points job builds whole (rows first, then its two indexes, each with one sort) and
attaches; recomputing a cycle replaces that partition. A default partition holds entries of
cycles without a partition of their own (written row by row, as tests and the admin may do).
The model, its columns, keys and indexes are unchanged: Django sees the same table. SQLite
keeps a plain table.
"""

from django.db import migrations

TABLE = "allocation_pointsentry"
OLD = "allocation_pointsentry_unpartitioned"
INDEX = (
    "CREATE INDEX points_retailer_start ON {table}"
    " (retailer_id, cycle_start DESC) INCLUDE (running_total)"
)


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    """Set the table aside (renaming its index and key too), make the new one under the same
    names, partitioned by cycle or not, copy the rows over and drop the old table (with its
    partitions, if it had any)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    execute(f"ALTER INDEX points_retailer_start RENAME TO {OLD}_start")
    execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey")
    execute(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        + (" PARTITION BY LIST (cycle_id)" if partitioned else "")
    )
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (cycle_id, retailer_id)")
    execute(INDEX.format(table=TABLE))
    if partitioned:
        execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT cycle_id FROM {OLD} ORDER BY 1")  # noqa: S608
            cycles = [int(row[0]) for row in cursor.fetchall()]
        for cycle_id in cycles:
            execute(
                f"CREATE TABLE {TABLE}_c{cycle_id} PARTITION OF {TABLE} FOR VALUES IN ({cycle_id})"
            )
    execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")  # noqa: S608
    execute(f"DROP TABLE {OLD}")


def partition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [("allocation", "0001_initial")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
