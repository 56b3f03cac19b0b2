"""Ingest into a database: idempotent, transactional, curator-safe, with clear errors."""
from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import func, select

from kb.cli import cli
from kb.core.db import transaction
from kb.ingest import IngestError, ingest
from kb.core.models import (CURATOR, Area, ChecklistItem, GlossaryTerm, Practice, PracticeCountry,
                       QualityIndicator, Reference, SuccessFactor, area_reference)

from conftest import CORPUS, CURATION

TABLES = [Area, SuccessFactor, ChecklistItem, Practice, PracticeCountry, Reference,
          QualityIndicator, GlossaryTerm]


def snapshot(engine):
    with transaction(engine) as session:
        rows = {m.__tablename__: sorted(session.scalars(select(m.__mapper__.primary_key[0])).all(),
                                        key=str) for m in TABLES}
        rows["area_reference"] = sorted(session.execute(select(area_reference)).all())
        rows["updated"] = sorted(session.execute(select(Practice.id, Practice.updated_at)).all())
    return rows


def test_ingest_twice_gives_same_rows_and_ids(engine):
    first = ingest(CORPUS, engine, CURATION)
    before = snapshot(engine)
    second = ingest(CORPUS, engine, CURATION)
    assert snapshot(engine) == before  # same rows, same IDs, nothing rewritten
    assert first.load.counts == second.load.counts
    assert not second.load.removed
    assert len(before["practice"]) == 62 and len(before["area_reference"]) == 42


def test_practice_in_database_has_its_relations(engine):
    ingest(CORPUS, engine, CURATION)
    with transaction(engine) as session:
        practice = session.get(Practice, "humans-in-the-loop")
        assert practice.area.title == "Skaidrība par bēgļiem nepieciešamo atbalstu"
        assert practice.success_factor.name == "Pastāvīgi izvērtējiet vajadzības"
        assert practice.country_codes == ["BG"]
        area = session.get(Area, 1)
        assert [f.position for f in area.success_factors] == [1, 2, 3, 4, 5]
        assert len(area.references) == 5


def test_curator_practices_survive_reingest(engine):
    ingest(CORPUS, engine, CURATION)
    with transaction(engine) as session:
        session.add(Practice(id="riga-language-cafe", source=CURATOR, area_id=1,
                             success_factor_id="1-pakalpojumi-bez-skersliem",
                             title="Rīgas valodu kafejnīca", text="Sarunu vakari latviešu valodā.",
                             countries=[PracticeCountry(country="LV")]))
    ingest(CORPUS, engine, CURATION)
    with transaction(engine) as session:
        kept = session.get(Practice, "riga-language-cafe")
        assert kept.text == "Sarunu vakari latviešu valodā." and kept.country_codes == ["LV"]
        assert session.scalar(select(func.count()).select_from(Practice)) == 63


def test_a_handbook_practice_removed_from_the_data_is_removed_from_the_database(engine, tmp_path):
    ingest(CORPUS, engine, CURATION)
    data = tmp_path / "corpus"
    shutil.copytree(CURATION, data)
    text = (data / "practices.toml").read_text(encoding="utf-8")
    entry = text.index("[[practice]]\nid = \"jildirimas-")
    (data / "practices.toml").write_text(text[:entry], encoding="utf-8")
    # The removed example's text now continues the example before it; its annotations go too.
    needs = (data / "needs.toml").read_text(encoding="utf-8")
    (data / "needs.toml").write_text(re.sub(
        r"\[practice\.jildirimas-[^]]+\]\nneeds = \[[^]]*\]\n", "", needs), encoding="utf-8")
    english = (data / "practices_en.toml").read_text(encoding="utf-8")
    (data / "practices_en.toml").write_text(
        english[:english.index("[practice.jildirimas-")], encoding="utf-8")
    activities = (data / "activities.toml").read_text(encoding="utf-8")
    (data / "activities.toml").write_text(re.sub(
        r"\[practice\.jildirimas-[^]]+\]\nactivities = \[[^]]*\]\n", "", activities),
        encoding="utf-8")
    # Its English text goes too, and the example before it, whose text changed, is listed as
    # missing its English until a reviewer translates the new text.
    text_en = (data / "practices_en_text.toml").read_text(encoding="utf-8")
    (data / "practices_en_text.toml").write_text(
        text_en[:text_en.index("[practice.somijas-beglu-padomes-")].replace(
            "missing = []", 'missing = ["somijas-beglu-padomes-pilsoniskas-orientacijas-kurss"]'),
        encoding="utf-8")
    facts = (data / "practice_facts.toml").read_text(encoding="utf-8")
    (data / "practice_facts.toml").write_text(
        facts[:facts.index("[practice.jildirimas-")], encoding="utf-8")
    report = ingest(CORPUS, engine, data)
    assert report.load.removed == {"practice": 1}
    with transaction(engine) as session:
        assert session.get(Practice, "jildirimas-socialas-kohezijas-centrs") is None


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("make_path, message", [
    (lambda t: t / "missing.txt", "no such file"),
    (lambda t: _write(t, "empty.txt", b"  \n\n"), "the file is empty"),
    (lambda t: t, "is a directory"),
    (lambda t: _write(t, "latin1.txt", "Bēgļi".encode("utf-16")), "not UTF-8"),
    (lambda t: _write(t, "other.txt", "Cits teksts bez jomām.\n".encode()), "no key areas found"),
    (lambda t: _write(t, "half.txt", CORPUS.read_bytes()[:60000]), "sections not found"),
])
def test_bad_input_is_refused_and_the_database_is_untouched(engine, tmp_path, make_path, message):
    ingest(CORPUS, engine, CURATION)
    before = snapshot(engine)
    with pytest.raises(IngestError, match=message):
        ingest(make_path(tmp_path), engine, CURATION)
    assert snapshot(engine) == before


def test_curation_errors_name_the_file_and_entry(engine, tmp_path):
    data = tmp_path / "corpus"
    shutil.copytree(CURATION, data)
    path = data / "practices.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('countries = ["FI"]', 'countries = ["XX"]', 1),
                    encoding="utf-8")
    with pytest.raises(IngestError, match=r"practices.toml: practice #1 .*ISO 3166-1"):
        ingest(CORPUS, engine, data)
    path.write_text(path.read_text(encoding="utf-8").replace('"XX"', '"FI"').replace(
        "Stambulas pilsētas pašvaldība (IMM)", "Nav tāda teksta"), encoding="utf-8")
    with pytest.raises(IngestError, match="anchors not found in the handbook"):
        ingest(CORPUS, engine, data)


@pytest.mark.parametrize("file, old, new, message", [
    ("activities.toml", 'activities = ["feedback"', 'activities = ["juggling"',
     r"activities.toml: practice .* has unknown activities \['juggling'\]"),
    ("checklist_needs.toml", 'activities = ["feedback"]', 'activities = ["feedback", "feedback"]',
     r"checklist_needs.toml: item 'area-1-06' lists one of its activities twice"),
    ("handbook_en.toml", "[item.area-1-01]", "[item.area-1-99]",
     r"handbook_en.toml: unknown item IDs \['area-1-99'\]"),
    ("handbook_en.toml", "[success_factor.1-pastavigi-izvertejiet-vajadzibas]",
     "[success_factor.1-nav]", r"handbook_en.toml: unknown success_factor IDs \['1-nav'\]"),
    ("handbook_en.toml", 'keywords = ["needs assessment", "data",', 'keywords = "needs assessment" #',
     r"handbook_en.toml: item 'area-1-01': key 'keywords' must be a list"),
])
def test_english_wording_and_activities_are_checked_against_the_handbook(
        engine, tmp_path, file, old, new, message):
    data = tmp_path / "corpus"
    shutil.copytree(CURATION, data)
    path = data / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        ingest(CORPUS, engine, data)


def test_a_database_of_an_older_kb_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    from sqlalchemy import inspect, text

    from kb.core.db import create_schema, make_engine

    from conftest import as_before_migrations, migrated
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = migrated(url)
    ingest(CORPUS, engine, CURATION)
    as_before_migrations(engine)
    with engine.begin() as connection:  # what an older kb created: no English, no activities
        for table, column in (("area", "title_en"), ("checklist_item", "text_en"),
                              ("checklist_item", "keywords_en"), ("checklist_item", "activities")):
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        connection.execute(text("DROP TABLE practice_activity"))
    create_schema(engine)  # `kb db upgrade`
    engine.dispose()
    upgraded = make_engine(url)
    columns = {c["name"] for c in inspect(upgraded).get_columns("checklist_item")}
    assert {"text_en", "keywords_en", "activities"} <= columns
    with transaction(upgraded) as session:
        assert session.scalar(select(func.count()).select_from(Practice)) == 62
        item = session.get(ChecklistItem, "area-1-01")
        assert (item.text_en, item.keywords_en, item.activities) == ("", [], [])
    ingest(CORPUS, upgraded, CURATION)
    with transaction(upgraded) as session:
        assert session.get(ChecklistItem, "area-1-01").text_en.startswith("To plan")
        assert session.get(Practice, "humans-in-the-loop").activity_codes[0] == "feedback"
    upgraded.dispose()


def test_cli_ingest_prints_the_summary(runner):
    result = runner.invoke(cli, ["ingest", str(CORPUS)])
    assert result.exit_code == 0, result.output
    assert "practices              62" in result.output
    assert "PL 14, FI 13" in result.output
    assert "6. Tiecieties pēc visaptveroša integrācijas atbalsta" in result.output


def test_cli_ingest_json_summary(runner):
    import json
    result = runner.invoke(cli, ["ingest", str(CORPUS), "--json"])
    summary = json.loads(result.output)
    assert summary["counts"]["references"] == 36
    assert summary["practices_per_area"] == {"1": 9, "2": 12, "3": 7, "4": 12, "5": 8, "6": 14}


def test_cli_ingest_error_exits_non_zero(runner, tmp_path):
    result = runner.invoke(cli, ["ingest", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert "no such file" in result.output and "left unchanged" in result.output
