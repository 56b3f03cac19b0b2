"""Lexical retrieval: a Whoosh index over every document type, with Latvian and English fields.

User input is never parsed as Whoosh query syntax: it is plain words and "quoted phrases".
`NOT`, `*`, `field:value`, stray quotes and brackets are ordinary characters, so no input can
change the query's meaning behind the user's back or make it raise.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage, copy_to_ram
from whoosh.query import And, Or, Phrase, Query, Term
from whoosh.reading import MultiReader
from whoosh.searching import Searcher

from kb.search.analysis import (TOKEN, english_analyzer, folded_analyzer, latvian_analyzer,
                                truncating_analyzer)
from kb.search.documents import DocKey, Document
from kb.search.facets import FACETS

# Field boosts: title > organisation > text; the unstemmed and English fields back them up.
SEARCH_FIELDS = {
    "title": 1.5, "title_exact": 0.5, "organisation": 1.2, "text": 1.0, "text_exact": 0.6,
    "english": 5.0, "needs_lv": 2.0, "needs_en": 2.0, "prefixes": 1.0,
}
PHRASE_FIELDS = ("title", "text", "english")
# In a large index, a term found in more than PRUNE_MAX_DF of the documents adds almost nothing
# to BM25 (its IDF is near zero) but makes Whoosh score every document containing it: such
# terms are left out once the index has PRUNE_MIN_DOCS documents. The handbook is far below.
PRUNE_MIN_DOCS = 5000
PRUNE_MAX_DF = 0.05
_PHRASE = re.compile(r'"([^"]+)"')
_WORD = re.compile(TOKEN)  # a user's word as the analyzers see it ("Covid-19" is one)
_PARTS = re.compile(r"\w+")
# How much a hit's share of the query's words scales its score: 0 = plain BM25F, 1 = a hit with
# half the words scores half. Words no document has do not count. The share re-scores the
# candidates BM25F puts first (`limit` of them), it does not reach beyond. Chosen with
# `kb eval`: 0.3 raised lexical nDCG@10 on every slice, and hybrid overall.
COORDINATION = 0.3


def make_schema() -> Schema:
    lv, exact, en = latvian_analyzer(), folded_analyzer(), english_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),
        **{f.name: KEYWORD(commas=True) if f.multi else ID() for f in FACETS},
        title=TEXT(analyzer=lv),
        title_exact=TEXT(analyzer=exact),
        organisation=TEXT(analyzer=lv),
        text=TEXT(analyzer=lv),
        text_exact=TEXT(analyzer=exact),
        english=TEXT(analyzer=en),
        needs_lv=TEXT(analyzer=lv),
        needs_en=TEXT(analyzer=en),
        prefixes=TEXT(analyzer=truncating_analyzer()),
    )


def _fields(doc: Document) -> dict:
    return dict(key=str(doc.key), **{f.name: ",".join(f.values(doc)) for f in FACETS},
                title=doc.title, title_exact=doc.title, organisation=doc.organisation,
                text=doc.text, text_exact=doc.text, english=doc.english,
                needs_lv=doc.need_terms, needs_en=doc.need_terms,
                prefixes=" ".join((doc.title, doc.organisation, doc.text)))


def parse_user_query(text: str) -> tuple[list[str], str]:
    """Split input into balanced "phrases" and the remaining plain text (stray quotes dropped)."""
    phrases = [p.strip() for p in _PHRASE.findall(text) if p.strip()]
    rest = _PHRASE.sub(" ", text).replace('"', " ")
    return phrases, rest


class LexicalIndex:
    """An immutable Whoosh index held in memory, read by any number of threads.

    Whoosh readers move a file position as they read, so one reader must never serve two
    threads at once: each thread gets its own reader of the same (immutable) bytes. The index is
    copied into memory when opened, so deleting its folder (a newer build replacing it) never
    pulls a file from under a reader. `LexicalView` searches several of them as one.
    """

    def __init__(self, ix):
        self._ix = ix
        self._local = threading.local()
        reader = ix.reader()
        try:
            self.keys: list[DocKey] = [DocKey.parse(fields["key"]) for _, fields in
                                       sorted(reader.iter_docs(), key=lambda pair: pair[0])]
        finally:
            reader.close()

    @staticmethod
    def build(folder: Path, documents: list[Document]) -> None:
        """Write an index of ``documents`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(folder), make_schema())
        _add(ix, documents, limitmb=256)
        ix.close()

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Open the index in ``folder``, copied into memory."""
        storage = copy_to_ram(FileStorage(str(folder)))
        return cls(storage.open_index())

    @classmethod
    def in_memory(cls, documents: list[Document]) -> LexicalIndex:
        """A small index of ``documents`` that lives in memory only (recent changes)."""
        ix = _Memory().create_index(make_schema())
        _add(ix, documents)
        return cls(ix)

    def __len__(self) -> int:
        return len(self.keys)

    def readers(self) -> list:
        """This thread's leaf readers of the index."""
        readers = getattr(self._local, "readers", None)
        if readers is None:
            reader = self._ix.reader()
            readers = self._local.readers = [leaf for leaf, _ in reader.leaf_readers()]
        return readers


class _Memory(RamStorage):
    """Whoosh's memory storage, whose writer's scratch space is in memory too (RamStorage
    puts it in a fixed folder, /tmp/MAIN.tmp, that every process would share)."""

    def temp_storage(self, name=None):
        return RamStorage()


def _add(ix, documents: list[Document], **options) -> None:
    writer = ix.writer(**options)
    for doc in documents:
        writer.add_document(**_fields(doc))
    writer.commit()


class LexicalView:
    """Several immutable indexes searched as one, with some of their documents masked out.

    A build's index and the small indexes of the changes since then; ``mask`` holds the
    document numbers (across all of them, in order) superseded by a later change.
    """

    def __init__(self, indexes: list[LexicalIndex], mask: frozenset[int] = frozenset()):
        self.indexes = indexes
        self.mask = mask
        self._schema = indexes[0]._ix.schema

    def _searcher(self):
        readers = [r for index in self.indexes for r in index.readers()]
        reader = readers[0] if len(readers) == 1 else MultiReader(readers)
        return Searcher(reader, weighting=scoring.BM25F(), closereader=False)

    def query(self, text: str) -> Query | None:
        """The Whoosh query for a user's input, or None when it has no searchable word."""
        return self._parse(self._searcher(), text)[0]

    def _parse(self, searcher, text: str) -> tuple[Query | None, dict[tuple[str, str], set[str]]]:
        """The query, and which of the user's words each (field, term) stands for.

        Every field's terms are OR-ed and BM25F scores add up: a word found in the title, the
        English summary and the needs counts more than a word found once in the text.
        """
        phrases, rest = parse_user_query(text)
        plain = " ".join([rest, *phrases])
        parts: list[Query] = []
        words: dict[tuple[str, str], set[str]] = {}
        reader = searcher.reader()
        total = reader.doc_count()
        ceiling = PRUNE_MAX_DF * total if total >= PRUNE_MIN_DOCS else None
        pruned: list[tuple[int, Term, str]] = []
        for word in dict.fromkeys(w.lower() for w in _WORD.findall(plain)):
            # "anti-racism" is indexed whole where it is written so, but a text may say "racism"
            spellings = [word] if _PARTS.fullmatch(word) else [word, *_PARTS.findall(word)]
            for field in SEARCH_FIELDS:
                for spelling in spellings:
                    for term in dict.fromkeys(t.text for t in self._schema[field].analyzer(spelling)):
                        if (field, term) in words:
                            words[(field, term)].add(word)
                            continue
                        frequency = reader.doc_frequency(field, term)
                        if not frequency:
                            continue
                        query = Term(field, term, boost=SEARCH_FIELDS[field])
                        if ceiling is None or frequency <= ceiling:
                            parts.append(query)
                            words[(field, term)] = {word}
                        else:
                            pruned.append((frequency, query, word))
        if not parts and pruned:  # every term is common: keep the rarest one
            frequency, query, word = min(pruned, key=lambda item: item[0])
            parts.append(query)
            words[(query.fieldname, query.text)] = {word}
        for phrase in phrases:
            for field in PHRASE_FIELDS:
                terms = [t.text for t in self._schema[field].analyzer(phrase)]
                if len(terms) > 1:
                    parts.append(Phrase(field, terms, boost=2.0))
        return (Or(parts) if parts else None), words

    def search(self, text: str, limit: int, filters: Query | None = None
               ) -> list[tuple[DocKey, float]]:
        """The ``limit`` best (key, score) pairs for ``text`` within ``filters``.

        BM25 alone lets one frequent word outweigh the rest of the query; each hit's score is
        scaled by the share of the query's words it contains (a coordination factor).
        """
        searcher = self._searcher()
        query, words = self._parse(searcher, text)
        if query is None:
            return []
        wanted = set().union(*words.values())
        hits = searcher.search(query, limit=limit, filter=filters, mask=set(self.mask) or None,
                               terms=True)
        scored = []
        for hit in hits:
            found = set()
            for field, term in hit.matched_terms():
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                found |= words.get((field, term), set())
            share = len(found) / len(wanted) if wanted else 1.0
            scored.append((DocKey.parse(hit["key"]),
                           float(hit.score) * (1 - COORDINATION + COORDINATION * share)))
        return sorted(scored, key=lambda item: -item[1])

    @staticmethod
    def filter_query(filters) -> Query | None:
        """The Whoosh query of a search's filters (None: no filter)."""
        parts = [Or([Term(f.name, v) for v in values]) if len(values) > 1 else Term(f.name, values[0])
                 for f, values in filters.selected()]
        return And(parts) if parts else None
