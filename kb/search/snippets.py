"""Highlighted snippets: the passage of a text that best matches the query, matches marked."""
from __future__ import annotations

import html
import re
from functools import lru_cache

from kb.search.analysis import DOMAIN_WORDS_EN, DOMAIN_WORDS_LV, FOLDED_STOP_WORDS, fold, stem

# Words every text has ("bēgļi", "refugees") are not worth marking.
DOMAIN_STEMS = frozenset(stem(fold(w)) for w in (*DOMAIN_WORDS_LV, *DOMAIN_WORDS_EN))

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=200_000)
def _forms(word: str) -> tuple[str, str]:
    """A word's folded form and stem: computed once per distinct word, not per snippet (a
    results page used to fold ~1,700 words a request)."""
    folded = fold(word)
    return folded, stem(folded)


def _query_stems(query: str) -> set[str]:
    stems = set()
    for word in _WORD.findall(query):
        folded = fold(word)
        if folded not in FOLDED_STOP_WORDS and len(folded) > 1 and stem(folded) not in DOMAIN_STEMS:
            stems.add(stem(folded))
            stems.add(folded)
    return stems


def snippet(text: str, query: str, width: int = 240) -> str:
    """HTML-escaped excerpt of ``text`` (about ``width`` characters) with matches in <mark>."""
    text = " ".join(text.split())
    stems = _query_stems(query)
    matches = [m for m in _WORD.finditer(text)
               if stems and not stems.isdisjoint(_forms(m.group()))] if stems else []
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        start = _best_window(text, matches, width)
        end = min(len(text), start + width)
        start, end = _to_word_boundaries(text, start, end)
    out, pos = [], start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        out.append(html.escape(text[pos:m.start()]))
        out.append(f"<mark>{html.escape(m.group())}</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:end]))
    return ("… " if start > 0 else "") + "".join(out) + (" …" if end < len(text) else "")


def _best_window(text: str, matches, width: int) -> int:
    if not matches:
        return 0
    best_start, best_count = 0, -1
    for m in matches:
        start = max(0, m.start() - width // 4)
        count = sum(1 for other in matches if start <= other.start() < start + width)
        if count > best_count:
            best_start, best_count = start, count
    return min(best_start, max(0, len(text) - width))


def _to_word_boundaries(text: str, start: int, end: int) -> tuple[int, int]:
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def matched_words(text: str, query: str, limit: int = 4) -> list[str]:
    """Distinct words of ``text`` that match the query's words (by stem), in text order."""
    stems = _query_stems(query)
    found: dict[str, str] = {}
    for m in _WORD.finditer(" ".join(text.split())):
        folded, key = _forms(m.group())
        if stems and (folded in stems or key in stems) and key not in found:
            found[key] = m.group()
            if len(found) >= limit:
                break
    return list(found.values())
