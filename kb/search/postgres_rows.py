"""Documents as the postgres backend's rows, analysed by kb's own analyzers.

One analysis for both backends: each lexical field of `kb.search.lexical` (title, organisation,
text, their unstemmed forms, the 5-letter prefixes, the English fields, the needs' labels and
keywords) is analysed by the very analyzer the Whoosh schema gives it (Latvian: lower-case,
folded to ASCII, stop words, the Latvian light stemmer; English: Porter), and its terms go into
one tsvector as field-tagged lexemes (``3:majokl`` is the stem ``majokl`` in the field
SEARCH_FIELDS[3]) with their positions, under the ``simple`` configuration's rules: PostgreSQL
stores and matches them, kb analyses. No dictionary has to be installed on the server, and both
backends index and query the same terms.

Each field's length is kept raw (for the corpus totals) and as Whoosh stores it (one byte,
`length_to_byte`), so BM25F scores as the local backend's do.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import NamedTuple

from whoosh.util.numeric import byte_to_length, length_to_byte

from kb.search.documents import TYPES, Document
from kb.search.facets import FACETS
from kb.search.lexical import SEARCH_FIELDS, _fields, make_schema

FORMAT = 5                    # of the rows; a build of another format is rebuilt by `kb index`
                              # (2: terms_ru_uk; 3: documents say when a practice was added;
                              # 4: the english_text field, kb's English rendering; 5: target
                              # groups, ongoing and source)
FIELDS = tuple(SEARCH_FIELDS)  # the order of the lengths and norms arrays, and the lexeme tags
TAGS = {field: str(n) for n, field in enumerate(FIELDS)}
MAX_POSITION = 16383          # PostgreSQL's largest tsvector position
MAX_POSITIONS = 256           # and the most positions it keeps per lexeme


@lru_cache(maxsize=1)
def schema():
    """The Whoosh schema, for its analyzers (the lexical index's own)."""
    return make_schema()


def lexeme(field: str, term: str) -> str:
    return f"{TAGS[field]}:{term}"


def field_of(tagged: str) -> tuple[str, str]:
    tag, _, term = tagged.partition(":")
    return FIELDS[int(tag)], term


def quote(tagged: str) -> str:
    """A lexeme as tsvector and tsquery input spell it (any character allowed)."""
    return "'" + tagged.replace("\\", "\\\\").replace("'", "''") + "'"


def norm(length: int) -> float:
    """A field length as Whoosh keeps it (a logarithmic byte)."""
    return float(byte_to_length(length_to_byte(length))) if length else 0.0


def facet_values(doc: Document) -> list[str]:
    """``name=value`` for every facet value of ``doc`` (kb.search.facets), in registry order."""
    return [f"{f.name}={v}" for f in FACETS for v in f.values(doc)]


class Row(NamedTuple):
    key: str
    type_order: int
    position: int
    record_id: str
    content_hash: str
    document: dict
    facets: list[str]
    quality: float | None
    lexemes: str           # tsvector input
    lengths: list[int]
    norms: list[float]
    terms: list[str]       # the distinct lexemes (document frequencies)


def document_row(doc: Document) -> Row:
    """The search_document row of ``doc``."""
    texts = _fields(doc)
    positions: dict[str, list[int]] = {}
    lengths = []
    for field in FIELDS:
        count = 0
        for token in schema()[field].analyzer(texts[field] or "", positions=True):
            count += 1
            found = positions.setdefault(lexeme(field, token.text), [])
            if len(found) < MAX_POSITIONS:
                found.append(min(token.pos + 1, MAX_POSITION))
        lengths.append(count)
    vector = " ".join(f"{quote(t)}:{','.join(map(str, sorted(set(p))))}"
                      for t, p in positions.items())
    return Row(str(doc.key), TYPES.index(doc.type), doc.position, doc.record_id,
               doc.content_hash, doc.to_json(), facet_values(doc), doc.quality, vector, lengths,
               [norm(n) for n in lengths], list(positions))


def digest(text: str) -> str:
    """The embedding cache's key of a passage (as the local cache's)."""
    return hashlib.sha256(text.encode()).hexdigest()
