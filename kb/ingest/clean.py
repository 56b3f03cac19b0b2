"""Repair rules for text extracted from the handbook's PDF, each a small function on strings.

The extraction letter-spaces headings ("D R O Š Ī BA  U N  PA L Ī DZ Ī BA"), splits words with
line-end hyphens, repeats URLs, prints page numbers on lines of their own and hides a URL in an
Outlook "safelinks" wrapper. `clean_lines` applies every rule and returns `Line`s that later
stages group into paragraphs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, quote, urlsplit

LOWER = "a-zāčēģīķļņšūžąćęłńóśźżöäüõéèàìòùß"
UPPER = "A-ZĀČĒĢĪĶĻŅŠŪŽĄĆĘŁŃÓŚŹŻÖÄÜÕÉ"
WORD_RE = re.compile(rf"[{LOWER}{UPPER}]+")
SENTENCE_END = tuple(".!?;:…")
CLOSING = " \"'”“»)’"


_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
_FOOTNOTE_MARK = re.compile(rf"(?<=[{LOWER}]\.)\d{{1,2}}\s*$")
_HYPHEN_END = re.compile(rf"([{LOWER}{UPPER}]+)-\s*$")
_FIRST_WORD = re.compile(rf"^\s*([{LOWER}]+)")


@dataclass(frozen=True)
class Line:
    """One cleaned line. `page_start` marks a line the extraction indented: a new text block."""

    text: str
    page_start: bool = False

    @property
    def blank(self) -> bool:
        return not self.text

    @property
    def is_url(self) -> bool:
        return is_url(self.text)

    @property
    def is_heading(self) -> bool:
        return is_heading(self.text)


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line))


def is_url(line: str) -> bool:
    return line.strip().startswith(("http://", "https://"))


def normalize_url(line: str) -> str:
    """Return the URL on ``line``: spaces escaped, an Outlook safelinks wrapper removed."""
    url = line.strip()
    parts = urlsplit(url)
    if parts.netloc.endswith("safelinks.protection.outlook.com"):
        target = parse_qs(parts.query).get("url")
        if target:
            url = target[0]
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def is_lower_start(text: str) -> bool:
    """True when ``text`` begins with a lower-case letter or a digit: a continued sentence."""
    text = text.lstrip()
    return bool(text) and (text[0].islower() or text[0].isdigit())


def is_finished(text: str) -> bool:
    """True when ``text`` ends a sentence (or a list item)."""
    return text.rstrip(CLOSING).endswith(SENTENCE_END)


def is_heading(text: str) -> bool:
    """True for a line in capitals: a heading, not running text."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 4:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.9


def is_letter_spaced(line: str) -> bool:
    """True for a heading the PDF printed with its letters spaced out."""
    tokens = line.split()
    if len(tokens) < 4 or not is_heading(line):
        return False
    short = sum(1 for t in tokens if len(t) <= 2)
    return short / len(tokens) >= 0.5


def vocabulary(text: str) -> frozenset[str]:
    """Lower-case words of the running text (letter-spaced lines excluded)."""
    words: set[str] = set()
    for line in text.splitlines():
        if not is_letter_spaced(line):
            words.update(w.lower() for w in WORD_RE.findall(line))
    return frozenset(words)


def segment(word: str, vocab: frozenset[str]) -> list[str]:
    """Split a glued word into the fewest known words; keep it whole when none fit."""
    if word.lower() in vocab or not word.isalpha():
        return [word]
    return list(_segment(word, vocab)) or [word]


@lru_cache(maxsize=4096)
def _segment(word: str, vocab: frozenset[str]) -> tuple[str, ...]:
    low = word.lower()
    n = len(low)
    best: list[tuple[int, int] | None] = [None] * (n + 1)  # (words, start of last word)
    best[0] = (0, 0)
    for end in range(1, n + 1):
        for start in range(end):
            if best[start] is not None and low[start:end] in vocab:
                cand = (best[start][0] + 1, start)
                if best[end] is None or cand[0] < best[end][0]:
                    best[end] = cand
    if best[n] is None:
        return ()
    parts, end = [], n
    while end > 0:
        start = best[end][1]
        parts.append(word[start:end])
        end = start
    return tuple(reversed(parts))


def unspace(line: str, vocab: frozenset[str]) -> str:
    """Undo letter-spacing: "PA L Ī DZ Ī BA  U N" -> "PALĪDZĪBA UN"."""
    groups = [g.replace(" ", "") for g in re.split(r"\s{2,}", line.strip()) if g.strip()]
    words: list[str] = []
    for group in groups:
        for token in re.findall(r"\w+|\W+", group):
            words.extend(segment(token, vocab) if token.isalpha() else [token])
    text = " ".join(words)
    text = re.sub(r"\s+([,.:;?!])", r"\1", text)
    return re.sub(r"^(\d+) \. ", r"\1. ", text)


def join_split_letters(text: str, vocab: frozenset[str]) -> str:
    """Rejoin a word a heading split after one letter: "PAKALPOJUMU S NIEDZĒJIEM"."""
    tokens = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if (len(tok) == 1 and tok.isalpha() and i + 1 < len(tokens)
                and (tok + tokens[i + 1]).lower() in vocab):
            out.append(tok + tokens[i + 1])
            i += 2
            continue
        out.append(tok)
        i += 1
    return " ".join(out)


def dehyphenate(left: str, right: str, raw_text: str, vocab: frozenset[str]) -> str:
    """Join a word split by a line-end hyphen; keep the hyphen of a real compound ("long-term")."""
    joined = (left + right).lower()
    if joined not in vocab and f"{left}-{right}".lower() in raw_text.lower():
        return f"{left}-{right}"
    return left + right


def collapse_spaces(text: str) -> str:
    return re.sub(r"[ \u00a0]{2,}", " ", text).strip()


def clean_lines(raw: str) -> list[Line]:
    """Apply every line repair to the raw extraction and return the cleaned lines."""
    raw = raw.replace("\ufffd", "").replace("\t", " ").replace("\r", "")
    vocab = vocabulary(raw)
    lines: list[Line] = []
    for source in raw.split("\n"):
        if is_page_number(source):
            continue
        page_start = source[:1].isspace() and bool(source.strip())
        if is_url(source):
            lines.append(Line(normalize_url(source), page_start))
            continue
        if is_letter_spaced(source):
            text = unspace(source, vocab)
        else:
            text = collapse_spaces(_FOOTNOTE_MARK.sub("", source))
        if is_heading(text):
            text = join_split_letters(text, vocab)
        lines.append(Line(text, page_start))
    return _dedupe_urls(_join_split_heading_words(_join_hyphenated(lines, raw, vocab), vocab))


def _join_hyphenated(lines: list[Line], raw: str, vocab: frozenset[str]) -> list[Line]:
    out: list[Line] = []
    skip_to = -1
    for i, line in enumerate(lines):
        if i <= skip_to:
            continue
        text = line.text
        match = _HYPHEN_END.search(text) if not line.is_url else None
        while match:
            j = i + 1
            while j < len(lines) and lines[j].blank:
                j += 1
            nxt = _FIRST_WORD.match(lines[j].text) if j < len(lines) else None
            if not nxt:
                break
            word = dehyphenate(match.group(1), nxt.group(1), raw, vocab)
            text = text[:match.start()] + word + lines[j].text.lstrip()[len(nxt.group(1)):]
            skip_to = i = j
            match = _HYPHEN_END.search(text)
        out.append(Line(collapse_spaces(text), line.page_start))
    return out


def _join_split_heading_words(lines: list[Line], vocab: frozenset[str]) -> list[Line]:
    """Move a heading's last single letter onto the next heading line it belongs to."""
    out = list(lines)
    for i in range(len(out) - 1):
        head, nxt = out[i], out[i + 1]
        if not (head.is_heading and nxt.is_heading) or " " not in head.text:
            continue
        rest, letter = head.text.rsplit(" ", 1)
        first = nxt.text.split(" ", 1)[0]
        if len(letter) == 1 and letter.isalpha() and (letter + first).lower() in vocab:
            out[i] = Line(rest, head.page_start)
            out[i + 1] = Line(letter + nxt.text, nxt.page_start)
    return out


def _dedupe_urls(lines: list[Line]) -> list[Line]:
    """Drop a URL repeated within one run of URL lines (the PDF prints each 2-5 times)."""
    out: list[Line] = []
    run: set[str] = set()
    for line in lines:
        if line.is_url:
            if line.text in run:
                continue
            run.add(line.text)
        elif not line.blank:
            run = set()
        out.append(line)
    return out
