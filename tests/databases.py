"""Scratch databases for tests: a SQLite file, or a schema of its own on the PostgreSQL server
KB_TEST_POSTGRES_URL names (creating a schema needs no CREATEDB right)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from uuid import uuid4

from sqlalchemy import create_engine, make_url, text

POSTGRES = os.environ.get("KB_TEST_POSTGRES_URL")


@contextmanager
def postgres_schema(prefix: str):
    """The URL of a new, empty schema (dropped afterwards) on the test server."""
    schema = f"{prefix}_{uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(POSTGRES).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
