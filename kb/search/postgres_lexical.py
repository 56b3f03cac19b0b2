"""The postgres backend's lexical retriever: the local backend's query plan
(`kb.search.lexical.plan_query`), scored by BM25F in SQL (`postgres_sql.LEXICAL`), with the
coordination factor and the words each hit matched; and its spelling suggestions.
"""
from __future__ import annotations

from sqlalchemy import text

from kb.core.vocabulary import fold
from kb.search import hybrid, lexical
from kb.search import postgres_sql as sql
from kb.search.documents import DocKey
from kb.search.postgres_rows import FIELDS, TAGS, field_of, lexeme, quote, schema
from kb.search.snapshot import CANDIDATES


def retrieve(connection, state, query: str, filters, limit: int = CANDIDATES
             ) -> list[tuple[DocKey, float, hybrid.Match]]:
    """BM25F candidates (the local backend's query plan and scores), each scaled by the
    share of the query's words it has (lexical.COORDINATION), with the words it matched."""
    analysers = schema()
    wanted_terms = {lexeme(f, t) for _, f, t in lexical.query_terms(query, analysers)}
    phrases = lexical.phrase_terms(query, analysers)
    wanted_terms |= {lexeme(f, t) for f, terms in phrases for t in terms}
    if not wanted_terms:
        return []
    df = dict(connection.execute(
        text("SELECT lexeme, df FROM search_term WHERE lexeme = ANY(:lexemes)"),
        {"lexemes": sorted(wanted_terms)}).all())
    plan = lexical.plan_query(query, analysers, lambda f, t: df.get(lexeme(f, t), 0),
                              state.documents)
    rows, alternatives = [], []
    for field, term, boost in plan.terms:
        rows.append((lexeme(field, term), field, boost * sql.idf(df[lexeme(field, term)],
                                                                 state.documents), None))
        alternatives.append(quote(lexeme(field, term)))
    for field, terms in phrases:
        tagged = [lexeme(field, t) for t in terms]
        if all(t in df for t in tagged):
            phrase = " <-> ".join(quote(t) for t in tagged)
            rows += [(t, field, lexical.PHRASE_BOOST * sql.idf(df[t], state.documents),
                      phrase) for t in tagged]
            alternatives.append(f"({phrase})")
    if not alternatives:
        return []
    averages = [(total / state.documents) if state.documents and total else 1.0
                for total in state.lengths]
    params = {"lexemes": [r[0] for r in rows],
              "fields": [FIELDS.index(r[1]) + 1 for r in rows],
              "weights": [r[2] for r in rows],
              "avgs": [averages[FIELDS.index(r[1])] for r in rows],
              "phrases": [r[3] for r in rows],
              "probes": [r[3] or quote(r[0]) for r in rows],
              "phrased": any(r[3] for r in rows),
              "shortlist": max(sql.SHORTLIST, limit), "limit": limit}
    found = connection.execute(sql.lexical_statement(filters, params), params).all()
    wanted = set().union(*plan.words.values()) if plan.words else set()
    scored = []
    for key, score, matched in found:
        match = lexical.match_of(plan.words, [field_of(t) for t in matched])
        share = len(match.full | match.prefixes) / len(wanted) if wanted else 1.0
        scored.append((DocKey.parse(key), float(score) * (
            1 - lexical.COORDINATION + lexical.COORDINATION * share), match))
    return sorted(scored, key=lambda item: -item[1])


def spelling(connection, word: str) -> str | None:
    """The most frequent indexed word within one edit of ``word`` (two from 8 letters) with
    its first letter, folded; None when ``word`` is known, short or a stop word (as the local
    backend's `LexicalView.suggest`)."""
    folded = fold(word.lower())
    known = [lexeme(f, t) for _, f, t in lexical.query_terms(word, schema())
             if f != "prefixes"]
    if len(folded) < 3 or folded in lexical.QUERY_STOP_WORDS or connection.execute(
            text("SELECT 1 FROM search_term WHERE lexeme = ANY(CAST(:l AS text[])) LIMIT 1"),
            {"l": known}).first():
        return None
    patterns = [f"{TAGS[f]}:{_like_escape(folded[0])}%" for f in lexical.SPELLING_FIELDS]
    rows = connection.execute(text(
        "SELECT lexeme, df FROM search_term WHERE lexeme LIKE ANY(CAST(:p AS text[])) "
        "AND char_length(lexeme) BETWEEN :low AND :high"),
        {"p": patterns, "low": len(folded) + 2 - 2, "high": len(folded) + 2 + 2}).all()
    for distance in (1, 2) if len(folded) >= 8 else (1,):
        found: dict[str, int] = {}
        for tagged, df in rows:
            term = field_of(tagged)[1]
            if _edits(folded, term, distance) <= distance:
                found[term] = found.get(term, 0) + df
        if found:
            return max(found, key=lambda term: (found[term], term))
    return None


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b`` (anything over ``limit`` as limit + 1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
