"""The PostgreSQL search backend's tables (KB_SEARCH_BACKEND=postgres), PostgreSQL only.

Revision 0004 creates them on PostgreSQL and nothing on SQLite; `kb.core.migrations.compare`
holds a PostgreSQL database to them besides `kb.core.models`. They use core PostgreSQL types
only (tsvector, real[]): the server needs pgvector for the search itself (its HNSW index and
distance operator, which `kb index` sets up), not for the migration, so a server without it
upgrades all the same.

- ``search_state``: one row: the build (`kb index`), the change counter (every upsert and
  remove adds one: the generation), the embedder, the corpus statistics BM25 needs (document
  count, total length of each lexical field) and the accent table of the build;
- ``search_document``: one row per searchable record: the document (JSON), its facet values
  (``name=value``), and its lexical fields analysed by kb's own analyzers into one tsvector of
  field-tagged lexemes (``3:majokl``) with each field's length;
- ``search_term``: each lexeme's document frequency;
- ``search_passage``: each passage embedding of a document (real[]) with the build it
  belongs to and the facets again (so the vector search can filter); `kb index` creates an
  HNSW index per build, partial (``WHERE build = ...``) on its rows' cast to pgvector's
  ``vector(dim)``, so a new build's index is made in one go beside the old one;
- ``search_embedding``: the embedding cache, by (model, text hash).
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, SmallInteger, String, Table, Text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, TSVECTOR

metadata = MetaData()

search_state = Table(
    "search_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("build", String(64), nullable=True),
    Column("seq", BigInteger, nullable=False),
    Column("format", Integer, nullable=False),
    Column("embedder", String(200), nullable=False),
    Column("dim", Integer, nullable=False),
    Column("documents", Integer, nullable=False),
    Column("lengths", ARRAY(BigInteger), nullable=False),
    Column("accents", JSONB, nullable=True),
    Column("built_at", DateTime(timezone=True), nullable=True),
)

search_document = Table(
    "search_document", metadata,
    Column("key", String(200), primary_key=True),
    Column("type_order", SmallInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("facets", ARRAY(Text), nullable=False),
    Column("quality", Float, nullable=True),
    Column("lexemes", TSVECTOR, nullable=False),
    Column("lengths", ARRAY(Integer), nullable=False),
    Column("norms", ARRAY(REAL), nullable=False),
    Index("ix_search_document_lexemes", "lexemes", postgresql_using="gin"),
    Index("ix_search_document_facets", "facets", postgresql_using="gin"),
    Index("ix_search_document_listing", "type_order", "position", "record_id"),
)

search_term = Table(
    "search_term", metadata,
    Column("lexeme", Text, primary_key=True),
    Column("df", Integer, nullable=False),
)

search_passage = Table(
    "search_passage", metadata,
    Column("key", String(200), ForeignKey("search_document.key", ondelete="CASCADE"),
           primary_key=True),
    Column("n", SmallInteger, primary_key=True, autoincrement=False),
    Column("build", String(64), nullable=False),
    Column("facets", ARRAY(Text), nullable=False),
    Column("embedding", ARRAY(REAL), nullable=False),
    Index("ix_search_passage_facets", "facets", postgresql_using="gin"),
)

search_embedding = Table(
    "search_embedding", metadata,
    Column("model", String(200), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)
