"""Latvian analysis, query parsing and snippets on small strings."""
from __future__ import annotations

import pytest

from kb.search.analysis import (accent_table, cyrillic_analyzer, english_analyzer, fold,
                                latvian_terms, restore_accents, stem, truncating_analyzer)
from kb.search.documents import chunks
from kb.search.hybrid import rrf, weighted
from kb.search.lexical import informative_words, parse_user_query
from kb.search.snippets import snippet


@pytest.mark.parametrize("text, folded", [("Mājoklis Ļubļinā", "majoklis lublina"),
                                          ("ĢIMENĒM", "gimenem"), ("Gdańsk, Łódź", "gdansk, lodz")])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("forms", [
    ("mājoklis", "mājokļi", "mājokļiem", "majoklis", "majokli"),
    ("ģimenēm", "ģimenes", "gimenem", "ģimene"),
    ("psiholoģiskais", "psiholoģisko", "psihologiskais"),
])
def test_inflected_forms_share_a_stem_with_and_without_diacritics(forms):
    stems = {latvian_terms(f)[0] for f in forms}
    assert len(stems) == 1, stems


def cyrillic_terms(text: str) -> list[str]:
    return [t.text for t in cyrillic_analyzer()(text)]


@pytest.mark.parametrize("forms", [
    ("жильё", "жилье", "жилья", "жильём"),                       # Russian, ё typed or not
    ("орієнтація", "орієнтації", "орієнтацію"),                   # Ukrainian
    ("громадянська", "громадянської", "громадянську"),
    ("мігранти", "мігрантів", "мигрантов", "мигранты"),           # both languages, one stem
    ("підтримка", "підтримки", "підтримку"),
])
def test_russian_and_ukrainian_forms_share_a_stem(forms):
    stems = {tuple(cyrillic_terms(f)) for f in forms}
    assert len(stems) == 1 and stems != {()}, stems


def test_russian_and_ukrainian_stop_and_domain_words_are_dropped():
    assert cyrillic_terms("жильё для беженцев") == cyrillic_terms("жильё")
    assert cyrillic_terms("житло для біженців") == cyrillic_terms("житло")
    assert informative_words("как открыть свой бизнес") == ["открыть", "бизнес"]
    assert informative_words("хорошие практики для беженцев") is None  # the handbook's own words


def test_stemmer_leaves_short_words_and_unpalatalizes():
    assert stem("un") == "un"
    assert stem("zivju") == "ziv"  # labial + j
    assert stem("vestu") == "vest"  # kst (folded ks)


def test_stop_and_domain_words_are_dropped():
    assert latvian_terms("bēgļu ģimenes un bērni") == [stem("gimenes"), stem("berni")]
    assert [t.text for t in english_analyzer()("support for refugee families")] == ["support", "famili"]


def test_truncating_analyzer_joins_compounds_and_derivations():
    terms = lambda s: [t.text for t in truncating_analyzer()(s)]
    assert terms("fokusgrupas") == terms("fokusa grupas")[:1]
    assert terms("meklēšana") == terms("meklēt")[:1] == ["mekle"]


def test_restore_accents():
    table = accent_table(["Mājoklis bēgļu ģimenēm.", "Cits mājoklis.", "Föreningsliv för alla", "darba darba darbā"])
    assert restore_accents("majoklis gimenem", table) == "mājoklis ģimenēm"
    assert restore_accents("housing for families", table) == "housing for families"  # not "för"
    assert restore_accents("darba", table) == "darba"  # the plain form is the frequent one
    assert restore_accents("mājoklis gimenem", table) == "mājoklis gimenem"  # typed with diacritics


@pytest.mark.parametrize("text, phrases, rest", [
    ('"psiholoģiskais atbalsts" bērniem', ["psiholoģiskais atbalsts"], "  bērniem"),
    ('"unbalanced', [], " unbalanced"),
    ('NOT x', [], "NOT x"),
    ('title:foo (bar', [], "title:foo (bar"),
    ('""', [], "  "),
])
def test_parse_user_query(text, phrases, rest):
    assert parse_user_query(text) == (phrases, rest)


def test_snippet_marks_matches_in_the_best_window_and_escapes_html():
    text = ("Ievads par citu tēmu. " * 20 + "Bēgļu ģimenēm piedāvā mājokli <b>drošā</b> vietā. "
            + "Beigas. " * 30)
    result = snippet(text, "majoklis gimenem", width=120)
    assert "<mark>ģimenēm</mark>" in result and "<mark>mājokli</mark>" in result
    assert "&lt;b&gt;drošā&lt;/b&gt;" in result
    assert result.startswith("… ") and result.endswith(" …")
    assert snippet("Īss teksts.", "") == "Īss teksts."


def test_chunks_cut_at_sentences():
    text = " ".join(f"Teikums numur {i} ir šeit." for i in range(40))
    parts = chunks(text, size=100)
    assert all(len(p) < 130 for p in parts) and " ".join(parts) == text


def test_rrf_and_weighted_fusion():
    rankings = {"lexical": [("a", 9.0), ("b", 5.0)], "dense": [("b", 0.9), ("c", 0.8)]}
    fused = rrf(rankings)
    assert [k for k, _, _ in fused] == ["b", "a", "c"]
    assert dict((k, found) for k, _, found in fused)["b"] == ("lexical", "dense")
    # Plain RRF puts c (first for dense) above a (second for lexical); weighting lexical 10:1
    # swaps them.
    split = {"lexical": [("b", 9.0), ("a", 5.0)], "dense": [("c", 0.9), ("b", 0.8)]}
    assert [k for k, _, _ in rrf(split)] == ["b", "c", "a"]
    lexical_first = rrf(split, weights={"lexical": 1.0, "dense": 0.1})
    assert [k for k, _, _ in lexical_first] == ["b", "a", "c"]
    scores = {k: s for k, s, _ in weighted(rankings, {"lexical": 0.5, "dense": 0.5})}
    assert scores == {"a": 0.5, "b": 0.5, "c": 0.0}
