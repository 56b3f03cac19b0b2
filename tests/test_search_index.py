"""The search index on a tiny corpus with hand-checked rankings, and on the real handbook."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kb.evaluation import evaluate, load_queries
from kb.search import Document, Filters, IndexUnavailable, SearchIndex, build_index
from kb.search.store import current_folder, read_meta

from conftest import CURATION

TINY = [
    Document("practice", "majoklu-programma", "Mājokļu programma ģimenēm",
             "Pašvaldība izīrē dzīvokļus bēgļu ģimenēm uz diviem gadiem un palīdz ar īri.",
             organisation="Rīgas dome", english="Housing programme for refugee families",
             areas=(3,), countries=("LV",), factor="3-x", needs=("housing",),
             activities=("housing-provision", "case-management"), position=1),
    Document("practice", "valodas-kursi", "Valodas kursi sievietēm",
             "Latviešu valodas kursi sievietēm ar bērnu pieskatīšanu nodarbību laikā.",
             english="Language courses for women with childcare", areas=(2,),
             countries=("LV", "EE"), needs=("language", "women"),
             activities=("language-course", "childcare"), position=2),
    Document("practice", "psihologs", "Psiholoģiskais atbalsts",
             "Psihologs sniedz individuālas konsultācijas un atbalsta grupas.",
             english="Psychological support: individual counselling and support groups",
             areas=(2,), countries=("EE",), needs=("health",), position=3),
    Document("glossary_term", "majoklis", "Mājoklis", "Vieta, kur dzīvot.", position=1),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("tiny")
    build_index(root, TINY, embedder)
    index = SearchIndex.open(root, embedder)
    yield index
    index.close()


@pytest.mark.parametrize("query, first", [
    ("mājoklis", "practice:majoklu-programma"),
    ("majokli gimenem", "practice:majoklu-programma"),   # no diacritics, other case forms
    ("valodas kursi", "practice:valodas-kursi"),
    ("psychological support", "practice:psihologs"),     # English finds the Latvian record
    ('"atbalsta grupas"', "practice:psihologs"),
    ("Rīgas dome", "practice:majoklu-programma"),         # organisation field
])
def test_tiny_rankings(tiny, query, first):
    assert tiny.search(query, Filters(types=("practice",))).hits[0].key == first


def test_filters_and_facets(tiny):
    results = tiny.search("", Filters(types=("practice",), country="EE"))
    assert [h.record_id for h in results.hits] == ["valodas-kursi", "psihologs"]
    assert results.facets["country"] == {"EE": 2, "LV": 1}
    assert results.facets["need"]["health"] == 1
    assert tiny.search("kursi", Filters(need="health")).total <= 1
    assert tiny.search("", Filters(area=3)).total == 1
    assert tiny.search("", Filters(types=("glossary_term",))).hits[0].title == "Mājoklis"
    childcare = tiny.search("", Filters(activity="childcare"))
    assert [h.record_id for h in childcare.hits] == ["valodas-kursi"]
    assert childcare.hits[0].activities == ("language-course", "childcare")
    assert tiny.search("", Filters()).facets["activity"] == {
        "housing-provision": 1, "case-management": 1, "language-course": 1, "childcare": 1}
    only = tiny.search("kursi", Filters(activity="housing-provision")).hits
    assert [h.record_id for h in only] == ["majoklu-programma"]  # filtered, though "kursi" fits


def test_every_hit_says_which_retrievers_found_it(tiny):
    hit = tiny.search("mājoklis ģimenēm").hits[0]
    assert set(hit.retrievers) == {"lexical", "dense"}
    assert "<mark>" in hit.snippet
    assert tiny.search("", Filters()).hits[0].retrievers == ()


def test_a_hit_scores_by_the_share_of_query_words_it_contains(tiny, monkeypatch):
    import kb.search.lexical as lexical

    monkeypatch.setattr(lexical, "COORDINATION", 0.0)  # plain BM25F
    plain = dict(tiny.lexical.search("psihologs dzīvokļus zirgs", 10))
    monkeypatch.setattr(lexical, "COORDINATION", 1.0)
    scaled = dict(tiny.lexical.search("psihologs dzīvokļus zirgs", 10))
    # the psychologist's record has one of the two words the index knows ("zirgs" is in no
    # record, so it does not count): half the words, half the score
    assert scaled["practice:psihologs"] == pytest.approx(plain["practice:psihologs"] / 2)
    assert scaled["practice:majoklu-programma"] == pytest.approx(
        plain["practice:majoklu-programma"] / 2)
    both = dict(tiny.lexical.search("psihologs konsultācijas", 10))
    assert both["practice:psihologs"] > scaled["practice:psihologs"]


def test_several_query_vectors_score_each_document_by_its_closest_one():
    from kb.search.dense import VectorIndex
    index = VectorIndex(["a", "b", "b"], np.eye(3, dtype=np.float32))
    one = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    two = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    assert index.search(one, 2) == [("b", pytest.approx(0.8)), ("a", pytest.approx(0.6))]
    assert index.search(two, 2) == [("b", pytest.approx(1.0)), ("a", pytest.approx(0.6))]


def test_a_query_without_diacritics_is_embedded_as_typed_and_restored(tiny, monkeypatch):
    seen = []
    encode = tiny.embedder.encode_queries
    monkeypatch.setattr(tiny, "embedder", type("Recording", (), {
        "encode_queries": lambda self, texts: seen.append(list(texts)) or encode(texts)})())
    typed_without = tiny.dense_search("majoklu programma gimenem")
    tiny.dense_search("mājokļu programma ģimenēm")
    tiny.dense_search("psychological support")
    assert seen == [["mājokļu programma ģimenēm", "majoklu programma gimenem"],
                    ["mājokļu programma ģimenēm"], ["psychological support"]]
    assert typed_without[0][0] == "practice:majoklu-programma"


def test_a_ranking_like_a_document_reads_its_stored_embedding_once(tiny, monkeypatch):
    seen = []
    encode = tiny.embedder.encode_queries
    monkeypatch.setattr(tiny, "embedder", type("Recording", (), {
        "encode_queries": lambda self, texts: seen.append(list(texts)) or encode(texts)})())
    tiny.memo.clear()
    like = tiny.dense_search("anything", like="practice:psihologs")
    assert seen == [] and like[0][0] == "practice:psihologs"
    assert tiny.dense_search("other words", like="practice:psihologs") is like  # kept
    tiny.dense_search("mājoklis", like="practice:nav-tadas")  # not indexed: the query is read
    assert seen == [["mājoklis"]]


def test_hyphenated_words_stay_whole(tmp_path):
    from kb.search.lexical import LexicalIndex
    docs = [Document("practice", "covid", "Tālrunis", "Informācija Covid-19 pandēmijas laikā."),
            Document("practice", "skaitli", "Skaitļi", "Tikai 19 dalībnieki."),
            Document("practice", "rasisms", "Rasisms", "Cīņa pret rasismu.",
                     english="A plan against racism.")]
    lexical = LexicalIndex.build(tmp_path / "lexical", docs)
    try:
        assert "practice:covid" in dict(lexical.search("covid-19", 10))  # indexed as one word
        assert lexical.search('"covid-19 pandēmija"', 10)[0][0] == "practice:covid"
        assert lexical.search("anti-racism", 10)[0][0] == "practice:rasisms"  # and its parts
    finally:
        lexical.close()


@pytest.mark.parametrize("query", ["NOT x", "*", "title:foo", '"unbalanced', "((", ")]}",
                                   "a" * 1000, "", "   ", "ā" * 300, "\x00", "mājoklis AND OR NOT"])
def test_odd_queries_never_raise(tiny, query):
    results = tiny.search(query)
    assert isinstance(results.total, int) and results.total >= 0


def test_operators_are_plain_words(tiny):
    lexical = tiny.search("NOT mājoklis", mode="lexical")
    assert lexical.hits[0].record_id in ("majoklu-programma", "majoklis")  # not negated
    assert tiny.search("*", mode="lexical").total == 0
    assert tiny.search("title:valodas", mode="lexical").hits[0].record_id == "valodas-kursi"


def test_pagination(tiny):
    everything = tiny.search("")
    page = tiny.search("", limit=2, offset=2)
    assert [h.key for h in page.hits] == [h.key for h in everything.hits[2:4]]
    assert page.total == everything.total == 4


def test_incremental_upsert_and_remove(tmp_path, embedder):
    build_index(tmp_path, TINY[:2], embedder)
    index = SearchIndex.open(tmp_path, embedder)
    index.memo["remembered"] = "a result of the old index"
    index.upsert(TINY[2])
    assert index.memo == {}  # what callers kept may have changed with the index
    assert index.search("psiholoģiskais").hits[0].key == "practice:psihologs"
    changed = Document(**{**TINY[2].to_json(), "areas": (2,), "countries": ("EE",),
                          "needs": ("health",), "title": "Mentori"})
    index.upsert(changed)
    assert index.search("", Filters(types=("practice",))).total == 3
    index.memo["remembered"] = "a result of the old index"
    index.remove("practice:psihologs")
    assert index.memo == {}
    assert "practice:psihologs" not in {h.key for h in index.search("psihologs").hits}
    index.close()
    reopened = SearchIndex.open(tmp_path, embedder)
    assert reopened.search("", Filters()).total == 2
    assert read_meta(reopened.folder)["documents"] == 2
    reopened.close()


def test_missing_stale_and_mismatched_indexes_name_kb_index(tmp_path, embedder):
    with pytest.raises(IndexUnavailable, match="run `kb index`"):
        SearchIndex.open(tmp_path / "none", embedder)
    build_index(tmp_path, TINY, embedder)
    with pytest.raises(IndexUnavailable, match="stale.*kb index"):
        SearchIndex.open(tmp_path, embedder, expected_hash="0000")
    meta_path = current_folder(tmp_path) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "embedder": "other-model"}))
    with pytest.raises(IndexUnavailable, match="other-model.*kb index"):
        SearchIndex.open(tmp_path, embedder)
    meta_path.write_text(json.dumps({**meta, "format": 0}))
    with pytest.raises(IndexUnavailable, match="format 0"):
        SearchIndex.open(tmp_path, embedder)


def test_rebuild_swaps_atomically_and_reuses_embeddings(tmp_path, embedder):
    first = build_index(tmp_path, TINY, embedder)
    second = build_index(tmp_path, TINY, embedder)
    assert first != second and not first.exists() and current_folder(tmp_path) == second
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".building-")]
    calls = []
    original = embedder.encode_passages
    embedder.encode_passages = lambda texts: calls.append(texts) or original(texts)
    try:
        build_index(tmp_path, TINY, embedder)
    finally:
        del embedder.encode_passages
    assert calls == []  # every passage came from the cache


# -- the real handbook ------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("mājoklis bēgļu ģimenēm", "laipni-lugti-majas"),
    ("majoklis beglu gimenem", "laipni-lugti-majas"),
    ("housing support for refugee families", "laipni-lugti-majas"),
    ("mentoring for immigrant women", "womento"),
    ("psiholoģiskais atbalsts", "mana-iespeja-polija"),
])
def test_handbook_queries_find_the_practice_in_the_top_five(handbook_index, query, expected):
    hits = handbook_index.search(query, Filters(types=("practice",)), limit=5).hits
    assert expected in [h.record_id for h in hits]


def test_handbook_search_by_country(handbook_index):
    results = handbook_index.search("", Filters(types=("practice",), country="GR"), limit=20)
    assert {h.record_id for h in results.hits} == {
        "karditsas-attistibas-agenturas-anka-fokusgrupas", "atenu-pasvaldibas-programma-beglu-jauniesiem",
        "kethea-programma-imigrantiem-un-begliem-ar-atkaribam", "caritas-beglu-gimenu-dienas-centrs"}


def test_handbook_covers_every_record_type(handbook_index):
    facets = handbook_index.search("").facets["type"]
    assert facets == {"practice": 62, "reference": 36, "success_factor": 30, "checklist_item": 93,
                      "glossary_term": 19, "area": 6}


def test_evaluation_does_not_fall_below_the_stored_baseline(handbook_index):
    """Hybrid nDCG@10 per slice may not drop more than 0.03 below corpus/eval/baseline.json."""
    baseline = json.loads((CURATION / "eval" / "baseline.json").read_text())
    table = evaluate(handbook_index, load_queries(CURATION / "eval" / "search.toml"),
                     {"hybrid": {"mode": "hybrid"}})
    for slice_name, value in baseline["hybrid"].items():
        assert table["hybrid"][slice_name]["ndcg@10"] >= value - 0.03, slice_name


def test_common_terms_are_pruned_only_in_large_indexes(tiny, monkeypatch):
    from kb.search import lexical
    terms = lambda q: " ".join(str(t) for t in tiny.lexical.query(q).subqueries)
    assert "title:majokl" in terms("psihologs mājoklis")
    monkeypatch.setattr(lexical, "PRUNE_MIN_DOCS", 2)
    monkeypatch.setattr(lexical, "PRUNE_MAX_DF", 0.3)  # 2 of the 4 titles have "mājoklis"
    assert "title:majokl" not in terms("psihologs mājoklis")
    assert "text:psiholog" in terms("psihologs mājoklis")
    monkeypatch.setattr(lexical, "PRUNE_MAX_DF", 0.01)
    rarest = tiny.lexical.query("mājoklis")  # every term is common: the rarest one stays
    assert len(rarest.subqueries) == 1 and tiny.lexical.search("mājoklis", 10)
