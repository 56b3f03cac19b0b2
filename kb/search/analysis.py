"""Text analysis for Latvian and English: folding, stop words, and a light Latvian stemmer.

Users type Latvian with or without diacritics ("mājoklis", "majoklis"), so Latvian text is
lower-cased and folded to ASCII *before* stemming, and the stemmer works on folded words:
a port of Lucene's LatvianStemmer (Kreslins' light stemmer) with its suffixes folded too.
Index and query pass through the same analyzer, so both sides always agree.
"""
from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import (STOP_WORDS, Filter, LowercaseFilter, RegexTokenizer,
                             StemmingAnalyzer, StopFilter)

from kb.core.vocabulary import fold

TOKEN = r"\w+(?:[.'’-]\w+)*"

# Lucene's Latvian suffixes (longest first) with their vowel-count guard and palatalization flag,
# folded to ASCII; where folding makes two suffixes equal, the first one's rule is kept.
_SUFFIXES: tuple[tuple[str, int, bool], ...] = (
    ("ajiem", 3, False), ("ajai", 3, False), ("ajam", 2, False), ("ajos", 2, False),
    ("ajas", 2, False), ("iem", 2, True), ("aja", 2, False), ("ais", 2, False), ("ai", 2, False),
    ("ei", 2, False), ("am", 1, False), ("em", 1, False), ("im", 1, False), ("um", 1, False),
    ("us", 1, True), ("as", 1, False), ("es", 1, False), ("os", 1, True), ("ij", 1, False),
    ("is", 1, False), ("ie", 1, False), ("u", 1, True), ("a", 1, True), ("i", 1, True),
    ("e", 1, False), ("o", 1, False), ("s", 0, False),
)
_VOWELS = set("aeiou")

LATVIAN_STOP_WORDS = frozenset("""
a ar arī bet bez bija būt caur citu gan ir ja jo ka kā kad kas kur kura kuri kuras kurš
lai līdz ne nav no pa par pat pie pēc tā tad tai tam tas tie to tos tur un uz vai vēl
viņa viņi viņu šajā šī šie šis šo tiek tika var varētu arī jau ko kam kuru tāpēc
""".split())

# Russian and Ukrainian function words: queries in either language meet the needs' and
# activities' Russian and Ukrainian labels and keywords (corpus/needs.toml, activities.toml).
RUSSIAN_UKRAINIAN_STOP_WORDS = frozenset("""
а без в во вы где для до его ее если есть же за и из или им их к как ко когда кто ли мы на над
не нет ни о об однако он она они оно от по под при про с со так также то тоже у уже чем что чтобы
это эти этот я какие какой какая нужна нужен нужно можно мне нам вам свой своя свои
свою своих
але або би бо в ви від до для є же з за и із їх й к коли ком ли ми на над не ні о об от по під
при про с та так також те то у це ці цей чи що щоб як які який яка я мені нам вам потрібна
потрібен потрібно можна свій своя свої свою своїх
""".split())

FOLDED_STOP_WORDS = frozenset(fold(w) for w in LATVIAN_STOP_WORDS)

# Words every document of a refugee-inclusion handbook uses: they carry no information for
# ranking, and in short titles ("Bēgļi bēgļiem") they outweighed what a query was about.
DOMAIN_WORDS_LV = ("bēglis", "bēgļi", "bēgļu", "bēgļiem", "bēgļus", "bēgle", "bēgles", "bēglēm",
                   "bēglim")
DOMAIN_WORDS_EN = ("refugee", "refugees")
DOMAIN_WORDS_RU_UK = ("беженец", "беженцы", "беженцев", "беженцам", "беженцами", "беженка",
                      "беженки", "беженок", "біженець", "біженці", "біженців", "біженцям",
                      "біженцями", "біженка", "біженки", "біженок")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Stem a folded Latvian word: 'majokli' -> 'majokl', 'gimenem' -> 'gimen'."""
    vowels = sum(1 for c in word if c in _VOWELS)
    for suffix, min_vowels, palatalizes in _SUFFIXES:
        if vowels > min_vowels and len(word) >= len(suffix) + 3 and word.endswith(suffix):
            base = word[:-len(suffix)]
            return _unpalatalize(base, suffix) if palatalizes else base
    return word


def _unpalatalize(base: str, suffix: str) -> str:
    # Folding already merged š/s, ļ/l, ņ/n, č/c; two rules still change the stem's length.
    if suffix == "u" and base.endswith("ks"):
        return base + "t"  # kš -> kst (vēsture: vēstu -> vēst)
    if base[-2:] in ("pj", "bj", "mj", "vj"):
        return base[:-1]   # labial + j
    return base


def _domain_stems() -> frozenset[str]:
    return frozenset(stem(fold(w)) for w in DOMAIN_WORDS_LV)


class LatvianStemFilter(Filter):
    """Whoosh filter applying `stem` to folded tokens."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = stem(token.text)
            yield token


class FoldFilter(Filter):
    """Whoosh filter applying `fold` (Unicode-complete, unlike a fixed accent table)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


def latvian_analyzer():
    """Tokenize, lower-case, fold diacritics, drop stop words, stem, drop domain words."""
    return (RegexTokenizer(TOKEN) | LowercaseFilter() | FoldFilter()
            | StopFilter(stoplist=FOLDED_STOP_WORDS, minsize=1) | LatvianStemFilter()
            | StopFilter(stoplist=_domain_stems(), minsize=1))


def folded_analyzer():
    """Tokenize, lower-case, fold diacritics: the unstemmed field for exact word forms."""
    return (RegexTokenizer(TOKEN) | LowercaseFilter() | FoldFilter()
            | StopFilter(stoplist=FOLDED_STOP_WORDS | {fold(w) for w in DOMAIN_WORDS_LV},
                         minsize=1))


class TruncateFilter(Filter):
    """Keep the first ``length`` letters of a word: a crude stemmer that also joins derived
    words and compounds ("meklēšana"/"meklēt", "fokusgrupas"/"fokusa grupas")."""

    def __init__(self, length: int = 5):
        self.length = length

    def __call__(self, tokens):
        for token in tokens:
            token.text = token.text[:self.length]
            yield token


def truncating_analyzer(length: int = 5):
    """Folded words cut to their first ``length`` letters (stop and domain words dropped)."""
    return folded_analyzer() | TruncateFilter(length)


def english_analyzer():
    """English words, stop words and Porter stems (Whoosh's StemmingAnalyzer)."""
    return StemmingAnalyzer(expression=TOKEN,
                            stoplist=STOP_WORDS | frozenset(DOMAIN_WORDS_EN)) | FoldFilter()


@lru_cache(maxsize=1)
def _russian_stemmer():
    from whoosh.lang.snowball.russian import RussianStemmer
    return RussianStemmer()


@lru_cache(maxsize=100_000)
def stem_cyrillic(word: str) -> str:
    """Stem a lower-cased Russian or Ukrainian word (Snowball Russian, Whoosh's own).

    Ukrainian shares most of Russian's endings of nouns and adjectives (-а, -и, -ою, -ами,
    -ий, -их ...) once its letters are spelt as Russian ones (`_as_russian`), so one stemmer
    serves the labels and keywords of both languages; Latin words are left as they are."""
    return _russian_stemmer().stem(_as_russian(word.replace("ё", "е")))


_UKRAINIAN_LETTERS = str.maketrans({"і": "и", "ї": "й", "є": "е", "ґ": "г"})


def _as_russian(word: str) -> str:
    """Spell a Ukrainian word's letters as the Russian stemmer knows them, so that its endings
    are recognised ("орієнтації" -> "ориентаций", "громадянської" -> "громадянской"; the
    genitive plural "-ів" is Russian "-ов"). Russian words have none of these letters."""
    if word.endswith(("ів", "їв")):
        word = word[:-2] + "ов"
    return word.translate(_UKRAINIAN_LETTERS)


class CyrillicStemFilter(Filter):
    """Whoosh filter applying `stem_cyrillic`."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = stem_cyrillic(token.text)
            yield token


def cyrillic_analyzer():
    """Russian and Ukrainian words: lower-cased, stop words dropped, stemmed, then folded
    ("ё", "й", "ї" lose their marks, as a user may type them); domain words dropped."""
    return (RegexTokenizer(TOKEN) | LowercaseFilter()
            | StopFilter(stoplist=RUSSIAN_UKRAINIAN_STOP_WORDS, minsize=1) | CyrillicStemFilter()
            | FoldFilter() | StopFilter(stoplist=_cyrillic_domain_stems(), minsize=1))


def _cyrillic_domain_stems() -> frozenset[str]:
    return frozenset(fold(stem_cyrillic(w)) for w in DOMAIN_WORDS_RU_UK)


def latvian_terms(text: str) -> list[str]:
    """The stems of ``text`` as the Latvian analyzer indexes them."""
    return [t.text for t in latvian_analyzer()(text)]


def accent_table(texts) -> dict[str, str]:
    """Map each folded word of ``texts`` to its most frequent spelling with diacritics."""
    counts: dict[str, dict[str, int]] = {}
    for text in texts:
        for word in re.findall(r"\w+", text.lower()):
            forms = counts.setdefault(fold(word), {})
            forms[word] = forms.get(word, 0) + 1
    table = {}
    for folded, forms in counts.items():
        best = max(forms, key=lambda w: (forms[w], w))
        if best != folded and folded not in STOP_WORDS:  # "for" must not become "för"
            table[folded] = best
    return table


def restore_accents(query: str, table: dict[str, str]) -> str:
    """Put diacritics back into a query typed without them ('majoklis' -> 'mājoklis').

    The embedder reads Latvian far better with its letters; a query that already has
    diacritics, and words the corpus never spells with them, are left as typed.
    """
    if not query.isascii():
        return query
    return re.sub(r"\w+", lambda m: table.get(m.group().lower(), m.group()), query)
