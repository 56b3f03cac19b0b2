"""Scratch databases for tests: a SQLite file, or a schema of its own on the PostgreSQL server
KB_TEST_POSTGRES_URL names (creating a schema needs no CREATEDB right)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from uuid import uuid4

from sqlalchemy import create_engine, make_url, text

POSTGRES = os.environ.get("KB_TEST_POSTGRES_URL")


@contextmanager
def postgres_schema(prefix: str, server: str | None = None, also: str = ""):
    """The URL of a new, empty schema (dropped afterwards) on the test server (or ``server``);
    ``also``: a schema searched after it (``public``, where pgvector's types are)."""
    server = server or POSTGRES
    schema = f"{prefix}_{uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        path = f"{schema},{also}" if also else schema
        yield make_url(server).update_query_dict(
            {"options": f"-csearch_path={path}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_of(url: str) -> str:
    """The schema a `postgres_schema` URL searches."""
    options = make_url(url).query.get("options", "")
    return options.partition("-csearch_path=")[2].split(",")[0]


def _serial(table, column) -> bool:
    if column.autoincrement is True:
        return True
    try:
        integer = column.type.python_type is int
    except NotImplementedError:
        return False
    return column.autoincrement == "auto" and len(table.primary_key.columns) == 1 and integer


@contextmanager
def postgres_copy(template_url: str, prefix: str):
    """The URL of a new schema at head holding a copy of every row of the schema
    ``template_url`` names (as the SQLite tests copy a template file): the ingested handbook
    without ingesting it again. Dropped afterwards."""
    from kb.core.db import create_schema, make_engine
    from kb.core.models import Base
    from kb.core.search_tables import metadata as search_metadata
    source = schema_of(template_url)
    with postgres_schema(prefix) as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        target = schema_of(url)
        with engine.begin() as connection:
            present = set(connection.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": target}).scalars())
            tables = [t for t in [*Base.metadata.sorted_tables, *search_metadata.sorted_tables]
                      if t.name in present]
            for table in reversed(tables):  # rows the migrations made (search_state's one)
                connection.execute(text(f'DELETE FROM "{target}"."{table.name}"'))
            for table in tables:
                columns = ", ".join(f'"{c.name}"' for c in table.columns)
                connection.execute(text(
                    f'INSERT INTO "{target}"."{table.name}" ({columns}) '
                    f'SELECT {columns} FROM "{source}"."{table.name}"'))
                for column in table.primary_key.columns:  # serial keys go on after the copies
                    if _serial(table, column):
                        connection.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('\"{target}\".\"{table.name}\"',"
                            f" '{column.name}'), coalesce(max(\"{column.name}\"), 0) + 1, false) "
                            f'FROM "{target}"."{table.name}"'))
        engine.dispose()
        yield url
