"""The postgres backend's queries: BM25F over the tsvector, nearest passages over pgvector, and
the listing, facets and rows of a results page. Fusion, snippets and the coordination factor
stay in Python, shared with the local backend.

Every statement takes the facet filters as ``facets && ARRAY['country=LV', ...]`` (any of a
facet's values; AND across facets), built from `Filters.selected()`.
"""
from __future__ import annotations

import math
import re

import numpy as np
from sqlalchemy import text

from kb.search.facets import FACETS

K1, B = 1.2, 0.75  # Whoosh's BM25F defaults, as the local backend scores
PASSAGES = (100, 400)  # nearest passages fetched per reading: first, and when that is short
EF_SEARCH = 100    # HNSW candidate list; iterative scans go on past it when filters drop rows
SHORTLIST = 300    # candidates scored exactly (all of them in a corpus the handbook's size)
BUILD_NAME = re.compile(r"[0-9a-f-]{1,64}")

STATE = text(
    "SELECT build, seq, format, embedder, dim, documents, lengths, built_at, "
    "(SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector, "
    f"set_config('hnsw.ef_search', '{EF_SEARCH}', true) AS ef_search, "
    "set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan "
    "FROM search_state WHERE id = 1")

# One row per (query lexeme, field); a document's score is the sum over the lexemes it has of
# weight (boost x idf) x BM25's saturated, length-normalised term frequency. A phrase's lexemes
# count again (weight x PHRASE_BOOST) where the document has the phrase.
#
# In two stages, so that a large corpus costs what its best candidates cost: first each query
# lexeme (or phrase) is looked up in the GIN index on its own -- no document's tsvector is read
# -- and the documents are scored as if each lexeme occurred once; then the SHORTLIST best are
# scored exactly, their term frequencies read from their tsvector cut down to the query's
# lexemes (setweight marks them, ts_filter keeps the marked ones). When there are no more
# candidates than SHORTLIST (the handbook has 246 documents) every one is scored exactly.
# Equal scores keep the order of `load_documents` (the local index's), as Whoosh breaks ties.
LEXICAL = """
WITH q (lexeme, field, weight, avg, phrase, probe) AS (
  SELECT * FROM unnest(CAST(:lexemes AS text[]), CAST(:fields AS int[]),
                       CAST(:weights AS float8[]), CAST(:avgs AS float8[]),
                       CAST(:phrases AS text[]), CAST(:probes AS text[]))
), rough AS (
  SELECT d.key,
         sum(q.weight * (__K1__ + 1)
             / (1 + __K1__ * (1 - __B__ + __B__ * greatest(d.norms[q.field], 1) / q.avg))) AS score
  FROM q CROSS JOIN LATERAL (
    SELECT key, norms FROM search_document
    WHERE lexemes @@ CAST(q.probe AS tsquery) __FILTERS__) d
  GROUP BY d.key ORDER BY score DESC LIMIT :shortlist
), found AS MATERIALIZED (  -- each candidate's tsvector is read once
  SELECT s.key, s.type_order, s.position, s.record_id, s.norms, u.lexeme,
         cardinality(u.positions) AS tf,
         CASE WHEN CAST(:phrased AS boolean) THEN s.lexemes END AS lexemes
  FROM search_document s JOIN rough USING (key)
  CROSS JOIN LATERAL unnest(ts_filter(setweight(s.lexemes, 'A', CAST(:lexemes AS text[])),
                                      '{a}')) AS u
), scored AS (
  SELECT f.key, f.type_order, f.position, f.record_id, f.lexeme,
         q.weight * f.tf * (__K1__ + 1)
           / (f.tf + __K1__ * (1 - __B__ + __B__ * greatest(f.norms[q.field], 1) / q.avg)) AS score
  FROM found f JOIN q ON q.lexeme = f.lexeme
                     AND (q.phrase IS NULL OR f.lexemes @@ CAST(q.phrase AS tsquery))
)
SELECT key, sum(score) AS score, array_agg(DISTINCT lexeme) AS matched
FROM scored GROUP BY key, type_order, position, record_id
ORDER BY score DESC, type_order, position, record_id COLLATE "C" LIMIT :limit
"""

# ``build = '...'`` is spelt out so the planner uses that build's partial HNSW index.
NEAREST = """
(SELECT __N__ AS reading, key,
        1 - (CAST(embedding AS vector(__DIM__)) <=> CAST(:q__N__ AS vector(__DIM__))) AS score
 FROM search_passage WHERE build = '__BUILD__' __FILTERS__
 ORDER BY CAST(embedding AS vector(__DIM__)) <=> CAST(:q__N__ AS vector(__DIM__)) LIMIT :passages)
"""

LISTING_ORDER = ('type_order, position, record_id COLLATE "C"')
QUALITY_ORDER = ("(CASE WHEN coalesce(quality, 0) = 0 THEN -1 ELSE quality END) DESC, "
                 + LISTING_ORDER)


def filter_sql(filters, params: dict, column: str = "facets") -> str:
    """`` AND facets && ...`` for each facet that restricts (its values in ``params``)."""
    parts = []
    for n, (facet, values) in enumerate(filters.selected()):
        params[f"facet{n}"] = [f"{facet.name}={v}" for v in values]
        parts.append(f" AND {column} && CAST(:facet{n} AS text[])")
    return "".join(parts)


def idf(df: int, documents: int) -> float:
    """Whoosh's inverse document frequency."""
    return math.log(max(documents, 1) / (df + 1)) + 1


def lexical_statement(filters, params: dict):
    sql = (LEXICAL.replace("__FILTERS__", filter_sql(filters, params))
           .replace("__K1__", repr(K1)).replace("__B__", repr(B)))
    return text(sql)


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def nearest_statement(vectors: np.ndarray, dim: int, build: str, filters, params: dict,
                      exclude: str | None = None, passages: int = PASSAGES[0]):
    """The ``passages`` passages of ``build`` nearest each row of ``vectors`` (UNION ALL), as
    (reading, key, score)."""
    if not BUILD_NAME.fullmatch(build):
        raise ValueError(f"not a build name: {build!r}")
    where = filter_sql(filters, params)
    if exclude is not None:
        params["exclude"] = exclude
        where += " AND key <> :exclude"
    params["passages"] = passages
    parts = []
    for n, vector in enumerate(np.atleast_2d(vectors)):
        params[f"q{n}"] = vector_literal(vector)
        parts.append(NEAREST.replace("__N__", str(n)).replace("__DIM__", str(int(dim)))
                     .replace("__BUILD__", build).replace("__FILTERS__", where))
    return text(" UNION ALL ".join(parts))


LISTING_ORDERS = {"relevance": LISTING_ORDER, "quality": QUALITY_ORDER}  # the rest: in Python
# What `kb.search.sorting` reads of each document (quality is the column the writes keep).
SORTABLE_COLUMNS = ("key, facets, quality, document->>'title' AS title, "
                    "document->>'title_en' AS title_en, "
                    "ARRAY(SELECT jsonb_array_elements_text(CAST(document AS jsonb)->'countries'))"
                    " AS countries, document->>'added' AS added")
SORTABLE = text(f"SELECT {SORTABLE_COLUMNS} FROM search_document WHERE key = ANY(:keys)")


def listing_statements(filters, sort: str, params: dict):
    """The total, the page and the facet counts of an empty query (every matching document);
    the page only for the orders SQL gives (LISTING_ORDERS)."""
    where = " WHERE TRUE" + filter_sql(filters, params)
    order = LISTING_ORDERS.get(sort, LISTING_ORDER)
    total = text(f"SELECT count(*) FROM search_document{where}")
    page = text(f"SELECT key, document FROM search_document{where} ORDER BY {order} "
                "OFFSET :offset LIMIT :limit")
    # Ties in a facet's counts keep the order of first appearance in the handbook's order, as
    # Counter.most_common does over the local backend's results before they are sorted.
    facets = text(
        f"WITH m AS (SELECT facets, row_number() OVER (ORDER BY {LISTING_ORDER}) AS rn "
        f"FROM search_document{where}) "
        "SELECT v.value, count(*) AS n, min(m.rn * 4096 + v.i) AS first "
        "FROM m, unnest(m.facets) WITH ORDINALITY AS v(value, i) GROUP BY v.value")
    return total, page, facets


def listing_sortables(filters, params: dict):
    """What the orders read of every document an empty query lists, in the handbook's order."""
    where = " WHERE TRUE" + filter_sql(filters, params)
    return text(f"SELECT {SORTABLE_COLUMNS} FROM search_document{where} ORDER BY {LISTING_ORDER}")


def facet_counts(rows) -> dict[str, dict[str, int]]:
    """Facet counts from (value, count, first appearance) rows, each facet most common first."""
    counts: dict[str, list] = {f.name: [] for f in FACETS}
    for value, n, first in rows:
        name, _, code = value.partition("=")
        if name in counts:
            counts[name].append((-n, first, code, n))
    return {name: {code: n for _, _, code, n in sorted(found)} for name, found in counts.items()}
