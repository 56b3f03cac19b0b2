"""Export and import without losing anything: `kb export --all` into a fresh database after
`kb ingest`, lines split on "\\n" only, every bad line reported and nothing imported."""
from __future__ import annotations

import json
import re
import shutil

import pytest
from sqlalchemy import inspect, select

from kb.core.db import make_engine, session_factory
from kb.core.models import (CHANGES_REQUESTED, HIDDEN, PENDING, PUBLISHED, REJECTED, Curator,
                            Practice, PracticeChange, PracticeRevision, QualityScore)
from kb.curation import accounts, archive, provenance, quality, review, schema, transfer

FULL = {"title": "Rīgas valodu kafejnīca", "title_en": "Riga language café",
        "organisation": "Biedrība", "city": "Rīga", "countries": ["LV", "EE"], "area": "5",
        "success_factor": "5-visa-atbalsta-modelu-klasta-izmantosana",
        "text": "Brīvprātīgie rīko sarunu vakarus.\n\nOtrā rindkopa.",
        "summary_en": "Volunteers host evenings.", "needs": ["language", "women"],
        "activities": ["language-course", "mentoring"], "urls": ["https://example.lv/k"],
        "period_start": 2019, "period_end": None, "ongoing": True,
        "target_groups": ["women", "host-community"], "reach": 1200,
        "funding_source": "Rīgas dome", "funding_band": "10k-100k",
        "challenge": "Trūkst sarunu prakses.", "how_it_works": "Reizi nedēļā.",
        "results": "300 dalībnieku.", "evaluation": "Dalībnieku aptauja.",
        "transferability": "Vajag telpu.", "public_contact": "info@example.lv",
        "languages": ["lv", "uk"], "contact": "ana@example.lv", "source_note": "Ieteica Ana"}
# Characters str.splitlines() would cut a line at, which json.dumps(ensure_ascii=False) writes raw.
SEPARATORS = "\u2028\u2029\u0085\x1c\x1d\x1e\x0b\x0c"


def _copy(template, tmp_path, name):
    path = tmp_path / f"{name}.sqlite3"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


def curators_work(engine) -> None:
    """Curators' work of every kind in ``engine``'s database: practices in every status,
    scores, a revision waiting, a suggestion with its status link, a handbook practice's
    correction note and another one hidden."""
    with session_factory(engine)() as session:
        anna = accounts.add_curator(session, "anna@example.lv", "anna-password-1")
        janis = accounts.add_curator(session, "janis@example.lv", "janis-password-1")
        boss = accounts.add_curator(session, "boss@example.lv", "boss-password-1", admin=True)
        accounts.add_curator(session, "unused@example.lv", "unused-password-1")
        text = f"Teksts{SEPARATORS}beigas."
        published = review.submit(session, {**FULL, "text": text}, anna, via="curator")
        review.decide(session, published, "publish", janis)
        indicators = [i.id for d in quality.domains_with_indicators(session)
                      for q in d.questions for i in q.indicators]
        quality.save_scores(session, published, {i: "met" for i in indicators}, janis.id)
        review.edit(session, published, {**FULL, "text": text, "results": "400 dalībnieku."},
                    anna)
        suggestion = review.submit(session, {**FULL, "title": "Ieteikums"}, None, via="public")
        provenance.issue_token(suggestion)
        rejected = review.submit(session, {**FULL, "title": "Noraidīts"}, anna, via="curator")
        review.decide(session, rejected, "reject", janis, "Nav par bēgļiem.")
        asked = review.submit(session, {**FULL, "title": "Jālabo"}, None, via="public")
        review.decide(session, asked, "request_changes", janis, "Pievienojiet pilsētu.")
        noted = session.get(Practice, "humans-in-the-loop")
        review.set_note(session, noted, "Tīmekļa adrese ir mainījusies.", anna)
        review.decide_revision(session, noted, "approve", janis)
        quality.save_scores(session, noted, {indicators[0]: "partly"}, anna.id)
        hidden = session.get(Practice, "funzi")
        review.hide(session, hidden, boss, "Dublē citu praksi.")
        session.commit()


def round_trip(source, fresh) -> tuple[list[dict], list[dict]]:
    """`kb export --all` of ``source`` imported into ``fresh``, and exported again there."""
    with session_factory(source)() as session:
        exported = transfer.export_jsonl(session, full=True)
    with session_factory(fresh)() as session:
        transfer.import_jsonl(session, exported)
        session.commit()
        again = transfer.export_jsonl(session, full=True)
    return _records(exported), _records(again)


@pytest.fixture()
def source(tmp_path, handbook_template):
    engine = _copy(handbook_template, tmp_path, "source")
    curators_work(engine)
    yield engine
    engine.dispose()


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in transfer.lines(text)]


def test_a_full_export_restores_everything_into_a_fresh_database(source, tmp_path,
                                                                 handbook_template):
    with session_factory(source)() as session:
        exported = transfer.export_jsonl(session, full=True)
        statuses = {p.id: p.status for p in session.scalars(select(Practice))}
    records = _records(exported)
    curators = [r for r in records if r.get("kind") == "curator"]
    practices = [r for r in records if r.get("kind") != "curator"]
    assert [c["email"] for c in curators] == ["anna@example.lv", "janis@example.lv",
                                              "boss@example.lv"]  # the unused one is not named
    assert all("password" not in json.dumps(c) for c in curators)
    assert len(practices) == 62 + 4  # the handbook's and the curators', unpublished ones too
    assert {r["record"]["status"] for r in practices} == {PUBLISHED, PENDING, REJECTED,
                                                          CHANGES_REQUESTED, HIDDEN}
    mine = next(r for r in practices if r["title"] == FULL["title"])
    assert mine["revision"]["proposed"] == {"results": "400 dalībnieku."}
    assert len(mine["scores"]) == 34 and mine["record"]["quality_overall"] is not None
    assert [c["action"] for c in mine["history"]] == ["submitted", "publish", "scored",
                                                      "revision_proposed"]
    assert SEPARATORS in mine["text"]
    rejected = next(r for r in practices if r["title"] == "Noraidīts")
    assert rejected["record"]["review_reason"] == "Nav par bēgļiem."

    fresh = _copy(handbook_template, tmp_path, "fresh")  # `kb ingest` only: no curators
    with session_factory(fresh)() as session:
        report = transfer.import_jsonl(session, exported)
        session.commit()
        assert len(report.handbook) == 62 and len(report.created) == 4
        assert sorted(report.curators) == ["anna@example.lv", "boss@example.lv",
                                           "janis@example.lv"]
        again = transfer.export_jsonl(session, full=True)
        assert {p.id: p.status for p in session.scalars(select(Practice))} == statuses
        # The accounts hold the names; none opens until `kb curator add` gives it a password.
        assert accounts.authenticate(session, "anna@example.lv", "anna-password-1") is None
        anna = accounts.add_curator(session, "anna@example.lv", "new-password-1")
        assert anna.active and accounts.authenticate(session, "anna@example.lv",
                                                     "new-password-1") == anna
    restored = _records(again)
    # Every field of every practice's line, in order; the curators' too, but their accounts
    # wait for a password.
    assert restored[3:] == records[3:]
    assert restored[:3] == [{**c, "active": False} for c in curators]
    fresh.dispose()


def test_the_full_export_holds_every_column_of_a_practice():
    """Nothing a practice row holds is left out of `kb export --all`."""
    columns = set(inspect(Practice).columns.keys())
    exported = ({"id", "source", "submitted_by", "hidden_by"} | set(archive.RECORD_COLUMNS)
                | {stored.attribute for stored in schema.STORED.values() if stored.row is None})
    assert columns <= exported, columns - exported
    for model, kept in ((QualityScore, {"practice_id", "indicator_id", "value", "curator_id",
                                        "updated_at"}),
                        (PracticeChange, {"id", "practice_id", "at", "action", "curator_id",
                                          "fields", "reason"}),
                        (PracticeRevision, {"practice_id", "proposed_by", "proposed_at",
                                            "proposed", "base"})):
        assert set(inspect(model).columns.keys()) == kept, model  # a new column: export it


def test_a_status_link_still_works_after_the_restore(source, tmp_path, handbook_template):
    with session_factory(source)() as session:
        suggestion = session.scalar(select(Practice).where(Practice.title == "Ieteikums"))
        token = provenance.issue_token(suggestion)
        session.commit()
        exported = transfer.export_jsonl(session, full=True)
    fresh = _copy(handbook_template, tmp_path, "fresh")
    with session_factory(fresh)() as session:
        transfer.import_jsonl(session, exported)
        assert provenance.by_token(session, token).title == "Ieteikums"
        assert provenance.by_token(session, token + "x") is None
    fresh.dispose()


def test_lines_are_split_on_newline_only(handbook_db):
    text = f"Pirms{SEPARATORS}pēc"
    line = {**FULL, "id": "atdalitaji", "title": f"Virsraksts\u2028ar atdalītāju",
            "text": text}
    dumped = json.dumps(line, ensure_ascii=False)
    assert "\u2028" in dumped and len(dumped.splitlines()) > 1  # what the old import tripped on
    with session_factory(handbook_db)() as session:
        report = transfer.import_jsonl(session, dumped + "\r\n" + dumped.replace(
            "atdalitaji", "otrs") + "\n")
        assert report.created == ["atdalitaji", "otrs"]
        assert session.get(Practice, "atdalitaji").text == text
        exported = transfer.export_jsonl(session)
    mine = next(r for r in _records(exported) if r["id"] == "atdalitaji")
    assert mine["text"] == text and mine["title"] == line["title"]


def test_every_bad_line_is_reported_and_nothing_is_imported(source, tmp_path,
                                                             handbook_template):
    with session_factory(source)() as session:
        records = _records(transfer.export_jsonl(session, full=True))
    handbook, other = [r for r in records if r.get("source") == "handbook" and not r["history"]][:2]
    mine = next(r for r in records if r.get("title") == FULL["title"])
    lines = [json.dumps(handbook, ensure_ascii=False),                        # 1: matches
             json.dumps({**handbook, "id": "x-" + handbook["id"]}),           # 2: not here
             json.dumps({**other, "title": "Cits virsraksts"}),               # 3: ours kept
             json.dumps({**mine, "id": "bez-kuratoriem"}),                    # 4: unknown people
             json.dumps({**mine, "id": "slikti", "period_start": 1800, "ongoing": True,
                         "period_end": 2020}),                                # 5: two errors
             "{oops",                                                         # 6: not JSON
             json.dumps({**mine, "id": "vertejums", "revision": None, "history": [],
                         "record": {**mine["record"], "submitted_by": None},
                         "scores": [{"indicator": "9.9.9", "value": "met",
                                     "updated_at": "2026-01-01T00:00:00"}]}),  # 7
             json.dumps({"kind": "recipe"}),                                  # 8
             json.dumps({**FULL, "id": "laba"})]                              # 9: fine
    fresh = _copy(handbook_template, tmp_path, "fresh")
    with session_factory(fresh)() as session:
        with pytest.raises(transfer.ImportError_) as error:
            transfer.import_jsonl(session, "\n".join(lines))
        problems = error.value.problems
        assert [p.split(":")[0] for p in problems] == [
            "line 2", "line 5", "line 5", "line 6", "line 8", "line 4", "line 7"]
        assert "run `kb ingest` first" in problems[0]
        assert "period_start" in problems[1] and "period_end" in problems[2]
        assert "anna@example.lv" in problems[5] and "9.9.9" in problems[6]
        assert session.get(Practice, "laba") is None
        assert session.scalars(select(Curator)).all() == []
        # The same file without its bad lines imports; the handbook lines' fields are
        # skipped, also where they differ from this database's (which `kb ingest` owns).
        report = transfer.import_jsonl(session, "\n".join([lines[0], lines[2], lines[8]]))
        assert report.handbook == [handbook["id"], other["id"]] and report.created == ["laba"]
        assert report.differing == {other["id"]: ["title"]}
        assert session.get(Practice, other["id"]).title == other["title"]
    fresh.dispose()


def test_the_cli_exports_everything_and_imports_it_again(handbook_copy, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from kb.cli import cli
    url, index_root = handbook_copy
    monkeypatch.setenv("KB_DATABASE_URL", url)
    monkeypatch.setenv("KB_INDEX_DIR", str(index_root))
    engine = make_engine(url)
    with session_factory(engine)() as session:
        anna = accounts.add_curator(session, "anna@example.lv", "anna-password-1")
        review.submit(session, {**FULL, "title": "Nepublicēta"}, anna, via="curator")
        session.commit()
    runner, path = CliRunner(), tmp_path / "all.jsonl"
    result = runner.invoke(cli, ["export", "--all", "-o", str(path)])
    assert result.exit_code == 0, result.output
    exported = path.read_text(encoding="utf-8")
    assert "Nepublicēta" in exported  # unpublished, yet exported
    assert "Nepublicēta" not in runner.invoke(cli, ["export"]).output
    result = runner.invoke(cli, ["export", "--all", "--format", "csv"])
    assert result.exit_code == 2 and "JSONL only" in result.output
    # Importing its own full export changes nothing: the handbook's lines match, the
    # curators' records are written back as they were.
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 new and 1 updated" in result.output and "62 handbook practices: their fields were skipped" in result.output
    assert runner.invoke(cli, ["export", "--all"]).output == exported
    *others, last = transfer.lines(exported)
    broken = "\n".join([*others, last.replace('"area": 5', '"area": 9')]) + "\n"
    path.write_text(broken.replace('"title": "', '"title": 7, "x": "', 1), encoding="utf-8")
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 1 and "nothing was imported" in result.output
    assert "humans-in-the-loop" not in result.output
    assert f"line {len(others) + 1}: area" in result.output
    # The handbook line with another title is not a problem: this database's is kept.
    assert set(re.findall(r"line (\d+)", result.output)) == {str(len(others) + 1)}
    path.write_text(exported.replace('"title": "', '"title": "Vecs ', 1), encoding="utf-8")
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    first = transfer.lines(exported)[1]
    assert f"{json.loads(first)['id']}: this database's title kept" in result.output
    engine.dispose()
