"""Bring a database made by a kb before migrations up to the baseline (revision 0001).

Before migrations every kb start ran ``create_all`` and then added, with their defaults, the
columns a newer kb had introduced (every such change was additive). So a database of the last
such release is the baseline already, and an older one lacks some tables, columns or indexes
of it. They are added here once, the same way, keeping every row; `kb db upgrade` then stamps
the database 0001 and runs the revisions after it. Later changes are revisions, never this.
"""
from __future__ import annotations

from sqlalchemy import JSON, inspect, literal, text
from sqlalchemy.engine import Connection

from kb.core.migrations import SchemaError
from kb.core.migrations.baseline import metadata


def bring_to_baseline(connection: Connection) -> list[str]:
    """Create the baseline's missing tables, columns and indexes; return what was added."""
    from kb.core.models import Base
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    newer = sorted(tables & set(Base.metadata.tables) - set(metadata.tables))
    if newer:  # only a development kb, which ran create_all on today's models, leaves these
        raise SchemaError(
            f"this database has no schema revision but has {', '.join(newer)}, which kb gained "
            "after the baseline: a development kb made it; drop "
            f"{'it' if len(newer) == 1 else 'them'} ({'; '.join(f'DROP TABLE {t}' for t in newer)})"
            " and run `kb db upgrade` again")
    quote = connection.dialect.identifier_preparer.quote
    added = []
    for table in metadata.sorted_tables:
        if table.name not in tables:
            table.create(connection)
            added.append(table.name)
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            default = _column_default(column, connection)
            if column.primary_key or default is None:
                raise SchemaError(
                    f"table {table.name} lacks {column.name}, which has no default to fill its "
                    "rows with: this database was not made by kb, or by a kb too old to upgrade")
            kind = column.type.compile(dialect=connection.dialect)
            required = "" if column.nullable else " NOT NULL"
            connection.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN "
                                    f"{quote(column.name)} {kind}{required} DEFAULT {default}"))
            added.append(f"{table.name}.{column.name}")
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)
                added.append(index.name)
    return added


def _column_default(column, connection: Connection) -> str | None:
    """The column's default as an SQL literal, or None when it has none to write."""
    default = column.default
    if default is None:
        return "NULL" if column.nullable else None
    if default.is_callable:
        made = getattr(default.arg, "__wrapped__", None)
        if isinstance(column.type, JSON) and made in (list, dict):
            return "'[]'" if made is list else "'{}'"
        return None
    value = literal(default.arg, column.type)
    return str(value.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
