"""The relevance cut-off: only what matches a query is a result, and a query nothing in the
handbook matches finds nothing -- and the page says so, and offers what helps."""
from __future__ import annotations

import pytest

from kb.evaluation.metrics import (OUT_OF_DOMAIN, check_targets, evaluate, load_out_of_domain,
                                   load_queries)
from kb.search import Filters
from kb.search.hybrid import Match, cut, query_matches
from kb.search.lexical import informative_words

from conftest import CURATION

OUT_OF_DOMAIN_QUERIES = [
    "asdfqwer",
    "kaķu barības atsauksmes",       # "atsauksmes" (feedback) is a handbook word
    "stock market index futures",    # "market", "futures" are too
    "how to change winter tyres",
    "šokolādes kūkas recepte",       # "recepte" ~ "reception" in the English summaries
    "как поменять зимние шины",
]
# Real queries of corpus/eval/search.toml, each for a path through the cut-off.
REAL_QUERIES = [
    "mājoklis bēgļu ģimenēm",
    "majoklu atrasana beglim",       # without diacritics
    "atkarību ārstēšana",            # one of two words in the handbook: exactly half
    "user satisfaction survey",      # each word in another practice
    "good practices in Greece",      # the handbook's own words do not count
    "fokusa grupas ar begliem",      # "fokusgrupas": a prefix match the dense retriever backs
]


def word(*words: str, prefixes: tuple[str, ...] = ()) -> Match:
    return Match(frozenset(words), frozenset(prefixes))


def fused(*keys: str) -> list:
    return [(key, 1.0 / n, ("lexical",)) for n, key in enumerate(keys, 1)]


# -- the rule, on hand-made matches ------------------------------------------------------------

@pytest.mark.parametrize("matches, informative, expected", [
    ([word("a", "b")], ["a", "b", "c"], True),            # two of three in one document
    ([word("a"), word("b"), word("c")], ["a", "b", "c"], True),  # every word, somewhere
    ([word("a"), word("a")], ["a", "b", "c"], False),     # one word of three, by chance
    ([word("a", prefixes=("b",))], ["a", "b", "c"], True),   # a prefix counts half: 1.5 of 3
    ([word("a", prefixes=("b",))], ["a", "b", "c", "d"], False),
    ([word("a", prefixes=("b",))], ["a", "b"], True),
    ([word(prefixes=("a", "b"))], ["a", "b"], False),     # prefixes alone never match
    ([], ["a"], False),
    ([word("a")], [], False),                             # stop words only
])
def test_a_query_matches_when_one_document_has_half_its_words(matches, informative, expected):
    assert query_matches(matches, informative) is expected


def test_results_hold_a_query_word_and_prefix_matches_need_the_dense_retriever():
    candidates = fused("whole", "prefix-backed", "prefix-alone", "dense-only")
    matches = {"whole": word("a", "b"), "prefix-backed": word(prefixes=("a",)),
               "prefix-alone": word(prefixes=("b",))}
    dense = [("dense-only", 0.9), ("prefix-backed", 0.88)] + [(f"d{n}", 0.8) for n in range(20)]
    results, closest = cut(candidates, matches, ["a", "b"], dense)
    assert [key for key, *_ in results] == ["whole", "prefix-backed"] and closest == []
    late = dense[:1] + [(f"d{n}", 0.8) for n in range(20)] + [("prefix-backed", 0.7)]
    assert [key for key, *_ in cut(candidates, matches, ["a", "b"], late).results] == ["whole"]


def test_nothing_matching_offers_the_closest_candidates_apart():
    candidates = fused(*(f"k{n}" for n in range(8)))
    results, closest = cut(candidates, {"k0": word("a")}, ["a", "b", "c"], [])
    assert results == [] and [key for key, *_ in closest] == ["k0", "k1", "k2", "k3", "k4"]


def test_what_cannot_be_judged_keeps_every_candidate():
    candidates = fused("x", "y")
    assert cut(candidates, None, ["a"]).results == candidates         # dense mode
    assert cut(candidates, {}, None).results == candidates            # "bēgļi", "refugees"


@pytest.mark.parametrize("query, expected", [
    ("how to change winter tyres", ["change", "winter", "tyres"]),
    ("good practices in Greece", ["greece"]),
    ("mājoklis bēgļu ģimenēm", ["mājoklis", "ģimenēm"]),
    ("Formula 1 un rezultāti", ["formula", "rezultāti"]),
    ("bēgļi", None),
    ("the un kā", []),
])
def test_informative_words(query, expected):
    assert informative_words(query) == expected


# -- the real handbook -------------------------------------------------------------------------

def test_the_out_of_domain_queries_here_are_in_the_evaluation_set():
    assert len(load_out_of_domain()) >= 30 and set(OUT_OF_DOMAIN_QUERIES) <= set(load_out_of_domain())


@pytest.mark.parametrize("query", OUT_OF_DOMAIN_QUERIES)
def test_out_of_domain_queries_find_nothing(handbook_index, query):
    for filters in (Filters(), Filters(types=("practice",))):
        results = handbook_index.search(query, filters)
        assert (results.total, results.hits) == (0, []), (query, [h.record_id for h in results.hits])
        assert all(not counts for counts in results.facets.values())
        assert 1 <= len(results.closest) <= 5


@pytest.mark.parametrize("query", REAL_QUERIES)
def test_real_queries_keep_their_relevant_practices(handbook_index, query):
    """Every relevant practice the fused ranking puts in its first ten is still a result there."""
    relevant = {q.text: q.relevant for q in load_queries(CURATION / "eval" / "search.toml")}[query]
    practices = Filters(types=("practice",))
    candidates = {key.id for key, _, _ in handbook_index.rank(query, practices)[:10]}
    found = {h.record_id for h in handbook_index.search(query, practices, limit=10).hits}
    assert relevant & candidates and relevant & candidates <= found


def test_total_counts_results_and_none_is_found_by_the_dense_retriever_alone(handbook_index):
    practices = Filters(types=("practice",))
    results = handbook_index.search("mājoklis", practices, limit=100)
    assert 5 <= results.total <= 15 and results.total == len(results.hits)  # 61 candidates
    assert results.facets["type"]["practice"] == results.total and results.closest == []
    assert all("lexical" in h.retrievers for h in results.hits)
    housing = handbook_index.search("", Filters(types=("practice",), need="housing"))
    assert housing.total <= results.total


def test_a_respelling_is_suggested_when_a_typo_finds_nothing(handbook_index):
    results = handbook_index.search("psiholgiskais")
    assert results.total == 0 and results.suggestion == "psiholoģiskais"
    assert handbook_index.search(results.suggestion).total > 0
    assert handbook_index.search("asdfqwer").suggestion == ""
    assert handbook_index.search("psiholoģiskais atbalsts").suggestion == ""  # found: none asked


def test_the_evaluation_reports_the_share_of_out_of_domain_queries_finding_nothing(handbook_index):
    queries = load_queries(CURATION / "eval" / "search.toml")[:2]
    table = evaluate(handbook_index.pinned(), queries, {"hybrid": {"mode": "hybrid"}})
    nothing = table["hybrid"][OUT_OF_DOMAIN]
    assert nothing["queries"] == len(load_out_of_domain()) and nothing["no results"] >= 0.95
    table["lexical"] = table["dense"] = table["hybrid"]
    assert "out-of-domain hybrid finds nothing for" in check_targets(table)[-1]
    assert check_targets(table)[-1].endswith("met")


# -- the API and the search page --------------------------------------------------------------

def test_the_api_finds_nothing_out_of_domain_and_lists_the_closest_apart(client):
    body = client.get("/api/search?q=asdfqwer&type=practice").get_json()
    assert (body["total"], body["results"]) == (0, []) and body["facets"]["type"] == {}
    assert 1 <= len(body["closest"]) <= 5 and all(c["type"] == "practice" for c in body["closest"])
    body = client.get("/api/search?q=kaķu+barības+atsauksmes").get_json()
    assert (body["total"], body["results"]) == (0, [])
    body = client.get("/api/search?q=mājoklis&type=practice&limit=100").get_json()
    assert body["total"] == len(body["results"]) <= 15 and body["closest"] == []


def test_the_page_says_nothing_was_found_and_offers_what_helps(client):
    html = client.get("/search?q=asdfqwer").get_data(as_text=True)
    assert "0 rezultāti" in html or "0 rezultātu" in html
    assert "Rokasgrāmatā nekas neatbilst vaicājumam “asdfqwer”" in html
    assert "Tuvākie ieraksti (tie neatbilst jūsu vārdiem)" in html
    assert "Pārlūkot pēc vajadzības" in html and "need=housing" in html
    assert "Pārlūkot pēc valsts" in html and "/countries/GR" in html
    english = client.get("/search?q=asdfqwer&lang=en").get_data(as_text=True)
    assert "Nothing in the handbook matches “asdfqwer”" in english and "Browse by need" in english
    data = client.get("/search?q=asdfqwer&format=json").get_json()
    assert (data["total"], data["results"], data["suggestion"]) == (0, [], None)
    assert 1 <= len(data["closest"]) <= 5 and data["browse"]["needs"]["housing"] >= 1
    typo = client.get("/search?q=psiholgiskais&lang=lv").get_data(as_text=True)
    assert "Vai domājāt:" in typo and "q=psiholo%C4%A3iskais" in typo


def test_a_page_beyond_the_last_says_so(client):
    last = client.get("/search?q=mājoklis&format=json").get_json()["pages"]
    html = client.get("/search?q=mājoklis&page=999").get_data(as_text=True)
    assert f"Lapa 999 ir aiz pēdējās rezultātu lapas, kas ir {last}." in html
    assert f"page={last}" in html and "Uz pēdējo lapu" in html
    data = client.get("/search?q=mājoklis&page=999&format=json").get_json()
    assert data["beyond_last_page"] is True and data["results"] == [] and data["page"] == 999
    assert client.get("/search?q=mājoklis&format=json").get_json()["beyond_last_page"] is False


def test_queries_typed_without_diacritics_rank_as_with_them(handbook_index):
    """Every lv-ascii evaluation query finds, lexically, exactly what the same words typed with
    diacritics find (corpus/eval/diacritics.toml): folding loses nothing."""
    import tomllib

    from kb.core.vocabulary import fold
    from kb.evaluation.metrics import ranked_practices
    pairs = tomllib.loads((CURATION / "eval" / "diacritics.toml").read_text("utf-8"))["query"]
    ascii_queries = {q.text for q in load_queries(CURATION / "eval" / "search.toml")
                     if q.lang == "lv-ascii"}
    assert {p["ascii"] for p in pairs} == ascii_queries
    reader = handbook_index.pinned()
    for pair in pairs:
        assert fold(pair["typed"]).lower() == pair["ascii"].lower()
        assert (ranked_practices(reader, pair["ascii"], "lexical")
                == ranked_practices(reader, pair["typed"], "lexical")), pair
