"""Lexical retrieval: a Whoosh index over every document type, with Latvian and English fields.

User input is never parsed as Whoosh query syntax: it is plain words and "quoted phrases".
`NOT`, `*`, `field:value`, stray quotes and brackets are ordinary characters, so no input can
change the query's meaning behind the user's back or make it raise.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Callable, NamedTuple

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.analysis import STOP_WORDS
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage, copy_to_ram
from whoosh.query import And, Or, Phrase, Query, Term
from whoosh.query.compound import PreloadedOr
from whoosh.reading import MultiReader
from whoosh.searching import Searcher

from kb.core.vocabulary import fold
from kb.search.analysis import (DOMAIN_WORDS_EN, DOMAIN_WORDS_LV, DOMAIN_WORDS_RU_UK,
                                FOLDED_STOP_WORDS, RUSSIAN_UKRAINIAN_STOP_WORDS, TOKEN,
                                cyrillic_analyzer, english_analyzer, folded_analyzer,
                                latvian_analyzer, truncating_analyzer)
from kb.search.documents import DocKey, Document
from kb.search.facets import FACETS
from kb.search.hybrid import TRANSLATED_FIELD, Match

# Field boosts: title > organisation > text; the unstemmed and English fields back them up.
# "english" holds the short English wording (titles, summaries, citations); "english_text" kb's
# English rendering of the whole text (a word there counts half: hybrid.TRANSLATED_SHARE).
SEARCH_FIELDS = {
    "title": 1.5, "title_exact": 0.5, "organisation": 1.2, "text": 1.0, "text_exact": 0.6,
    "english": 5.0, "english_text": 1.0, "needs_lv": 2.0, "needs_en": 2.0, "prefixes": 1.0,
    "terms_ru_uk": 2.0,
}
PHRASE_FIELDS = ("title", "text", "english", "english_text")
SPELLING_FIELDS = ("text_exact", "title_exact")  # folded, unstemmed words: spelling suggestions
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
# What a match must be about (`informative_words`, for the relevance cut-off in hybrid.py): not
# the function words of either language (Whoosh's English list lacks "how", "what", "me" ...),
# nor the handbook's own words -- every record is a good practice for refugees.
QUERY_STOP_WORDS = FOLDED_STOP_WORDS | STOP_WORDS | frozenset("""
about above after again against all am any because been before being below between both but
could did do does doing down during each few further had has having he her here hers herself
him himself his how i into its itself just me more most my myself no nor now only other our ours
ourselves out over own same she should so some such than then there these they those through
too under until up very was were what where which while who whom why would yours""".split()
) | frozenset(fold(w) for w in RUSSIAN_UKRAINIAN_STOP_WORDS)
HANDBOOK_WORDS = frozenset(fold(w) for w in (
    *DOMAIN_WORDS_LV, *DOMAIN_WORDS_EN, *DOMAIN_WORDS_RU_UK, "prakse", "prakses", "praksi",
    "praksē", "prakšu", "praksēm", "laba", "labā", "labas", "labās", "labu", "labo", "good",
    "practice", "practices", "практика", "практики", "практик", "хорошие", "лучшие", "добрі",
    "кращі"))


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
        english_text=TEXT(analyzer=en),
        needs_lv=TEXT(analyzer=lv),
        needs_en=TEXT(analyzer=en),
        prefixes=TEXT(analyzer=truncating_analyzer()),
        terms_ru_uk=TEXT(analyzer=cyrillic_analyzer()),
    )


def _fields(doc: Document) -> dict:
    return dict(key=str(doc.key), **{f.name: ",".join(f.values(doc)) for f in FACETS},
                title=doc.title, title_exact=doc.title, organisation=doc.organisation,
                text=doc.text, text_exact=doc.text, english=doc.english,
                english_text=doc.text_en,
                needs_lv=doc.need_terms, needs_en=doc.need_terms,
                prefixes=" ".join((doc.title, doc.organisation, doc.text)),
                terms_ru_uk=doc.terms_ru_uk)


def parse_user_query(text: str) -> tuple[list[str], str]:
    """Split input into balanced "phrases" and the remaining plain text (stray quotes dropped)."""
    phrases = [p.strip() for p in _PHRASE.findall(text) if p.strip()]
    rest = _PHRASE.sub(" ", text).replace('"', " ")
    return phrases, rest


PHRASE_BOOST = 2.0


class QueryPlan(NamedTuple):
    """What a user's input asks the lexical index (the same for every backend).

    ``terms``: (field, term, boost) to OR together, BM25F scores adding up; ``words``: which of
    the user's words each (field, term) stands for (the coordination factor counts them);
    ``phrases``: (field, terms) that score PHRASE_BOOST more where they occur in a row.
    """

    terms: list[tuple[str, str, float]]
    words: dict[tuple[str, str], set[str]]
    phrases: list[tuple[str, list[str]]]


def user_words(text: str) -> list[str]:
    """The user's words, lower-cased, each once, in order (the words `QueryPlan.words` names)."""
    phrases, rest = parse_user_query(text)
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(" ".join([rest, *phrases]))))


def informative_words(text: str) -> list[str] | None:
    """The user's words a result must match: stop words and one-letter words left out, and the
    handbook's own words (refugee, good practice) unless nothing else is left -- then None: the
    query asks for what the whole handbook is about, and no candidate can be told apart."""
    words = [w for w in user_words(text) if len(w) > 1 and w not in QUERY_STOP_WORDS
             and fold(w) not in QUERY_STOP_WORDS]
    informative = [w for w in words if fold(w) not in HANDBOOK_WORDS]
    return informative if informative or not words else None


def match_of(words: dict[tuple[str, str], set[str]], matched) -> Match:
    """The user's words a document matched, from the (field, term) pairs it matched and the
    plan's ``words`` (every backend's lexical hits are judged by this)."""
    full, prefixed, translated = set(), set(), set()
    for field, term in matched:
        found = (prefixed if field == "prefixes" else translated if field == TRANSLATED_FIELD
                 else full)
        found.update(words.get((field, term), ()))
    return Match(frozenset(full), frozenset(prefixed - full - translated),
                 frozenset(translated - full))


def query_terms(text: str, schema) -> list[tuple[str, str, str]]:
    """Every (word, field, term) a user's input could look up, in the order it is planned."""
    found = []
    for word in user_words(text):
        # "anti-racism" is indexed whole where it is written so, but a text may say "racism"
        spellings = [word] if _PARTS.fullmatch(word) else [word, *_PARTS.findall(word)]
        for field in SEARCH_FIELDS:
            for spelling in spellings:
                for term in dict.fromkeys(t.text for t in schema[field].analyzer(spelling)):
                    found.append((word, field, term))
    return found


def phrase_terms(text: str, schema) -> list[tuple[str, list[str]]]:
    """The (field, terms) of each "quoted phrase" of more than one term."""
    found = []
    for phrase in parse_user_query(text)[0]:
        for field in PHRASE_FIELDS:
            terms = [t.text for t in schema[field].analyzer(phrase)]
            if len(terms) > 1:
                found.append((field, terms))
    return found


def plan_query(text: str, schema, doc_frequency: Callable[[str, str], int],
               total: int) -> QueryPlan:
    """Plan the lexical query for ``text``: terms no document has are left out, and in a large
    index (``total`` documents) so are the very common ones (see PRUNE_MAX_DF).

    Every field's terms are OR-ed and BM25F scores add up: a word found in the title, the
    English summary and the needs counts more than a word found once in the text.
    """
    ceiling = PRUNE_MAX_DF * total if total >= PRUNE_MIN_DOCS else None
    terms: list[tuple[str, str, float]] = []
    words: dict[tuple[str, str], set[str]] = {}
    pruned: list[tuple[int, tuple[str, str, float], str]] = []
    for word, field, term in query_terms(text, schema):
        if (field, term) in words:
            words[(field, term)].add(word)
            continue
        frequency = doc_frequency(field, term)
        if not frequency:
            continue
        part = (field, term, SEARCH_FIELDS[field])
        if ceiling is None or frequency <= ceiling:
            terms.append(part)
            words[(field, term)] = {word}
        else:
            pruned.append((frequency, part, word))
    if not terms and pruned:  # every term is common: keep the rarest one
        frequency, part, word = min(pruned, key=lambda item: item[0])
        terms.append(part)
        words[(part[0], part[1])] = {word}
    return QueryPlan(terms, words, phrase_terms(text, schema))


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
        """The query, and which of the user's words each (field, term) stands for."""
        reader = searcher.reader()
        plan = plan_query(text, self._schema, reader.doc_frequency, reader.doc_count())
        parts: list[Query] = [Term(field, term, boost=boost) for field, term, boost in plan.terms]
        parts += [Phrase(field, terms, boost=PHRASE_BOOST) for field, terms in plan.phrases]
        return (Or(parts) if parts else None), plan.words

    def search(self, text: str, limit: int, filters: Query | None = None
               ) -> list[tuple[DocKey, float]]:
        """The ``limit`` best (key, score) pairs for ``text`` within ``filters``."""
        return [(key, score) for key, score, _ in self.matches(text, limit, filters)]

    def matches(self, text: str, limit: int, filters: Query | None = None
                ) -> list[tuple[DocKey, float, Match]]:
        """The ``limit`` best (key, score, the words it matched) for ``text`` within ``filters``.

        BM25 alone lets one frequent word outweigh the rest of the query; each hit's score is
        scaled by the share of the query's words it contains (a coordination factor).
        """
        searcher = self._searcher()
        query, words = self._parse(searcher, text)
        if query is None:
            return []
        wanted = set().union(*words.values())
        # The terms' scores are added up in an array (Whoosh's PreloadedOr): the same sums as
        # its tree of union matchers (kb eval gives identical figures), without asking every
        # matcher which terms the current document has; which terms each hit has is read from
        # the terms' postings afterwards. A checklist item's ranking (its long text and
        # keywords) took 63 ms, now 59 ms.
        if isinstance(query, Or):
            query = PreloadedOr(query.subqueries)
        hits = searcher.search(query, limit=limit, filter=filters, mask=set(self.mask) or None)
        reader = searcher.reader()
        holders: dict[tuple[str, str], set[int]] = {}
        scored = []
        for hit in hits:
            matched = []
            for field, term in words:
                if (field, term) not in holders:
                    holders[(field, term)] = set(reader.postings(field, term).all_ids())
                if hit.docnum in holders[(field, term)]:
                    matched.append((field, term))
            match = match_of(words, matched)
            share = len(match.full | match.prefixes) / len(wanted) if wanted else 1.0
            scored.append((DocKey.parse(hit["key"]),
                           float(hit.score) * (1 - COORDINATION + COORDINATION * share), match))
        return sorted(scored, key=lambda item: -item[1])

    def suggest(self, word: str) -> str | None:
        """The indexed word closest in spelling to ``word`` (folded), the most frequent of the
        nearest ones; None when none is within one edit (two from 8 letters: two edits turn
        most short words into some other word), or ``word`` is a stop word or one it has."""
        folded = fold(word.lower())
        readers = [r for index in self.indexes for r in index.readers()]
        known = [(f, t) for _, f, t in query_terms(word, self._schema) if f != "prefixes"]
        if len(folded) < 3 or folded in QUERY_STOP_WORDS or any(
                r.doc_frequency(f, t) for r in readers for f, t in known):
            return None
        for distance in (1, 2) if len(folded) >= 8 else (1,):
            found: dict[str, int] = {}
            for reader in readers:
                for field in SPELLING_FIELDS:
                    for term in reader.terms_within(field, folded, distance, prefix=1):
                        found[term] = found.get(term, 0) + reader.doc_frequency(field, term)
            if found:
                return max(found, key=lambda term: (found[term], term))
        return None

    @staticmethod
    def filter_query(filters) -> Query | None:
        """The Whoosh query of a search's filters (None: no filter)."""
        parts = [Or([Term(f.name, v) for v in values]) if len(values) > 1 else Term(f.name, values[0])
                 for f, values in filters.selected()]
        return And(parts) if parts else None
