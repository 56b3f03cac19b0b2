"""The data files in corpus/: schemas with clear errors, one vocabulary layout, stable IDs."""
from __future__ import annotations

import json
import re
import shutil
import tomllib

import pytest

from kb.ingest import IngestError, ingest, parse_handbook
from kb.ingest.curation import ACTIVITIES, NEEDS, CurationError, load_curation
from kb.ingest.schemas import vocabulary_schema

from conftest import CORPUS, CURATION

HUMANS = "humans-in-the-loop"


def copy_data(tmp_path):
    """A copy of corpus/'s data files to edit (without the evaluation sets and the handbook)."""
    data = tmp_path / "corpus"
    shutil.copytree(CURATION, data, ignore=shutil.ignore_patterns("eval", "*.txt"))
    return data


def edit(data, file, old, new):
    path = data / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_of(data) -> str:
    with pytest.raises(CurationError) as caught:
        load_curation(data)
    return str(caught.value)


LUBLIN = "practice #2 'lublinas-gimenes-palidzibas-centri'"


@pytest.mark.parametrize("file, old, new, message", [
    # unknown keys, with the key they are most likely a misspelling of
    ("practices.toml", 'organisation = "Ļubļinas', 'organization = "Ļubļinas',
     f"{LUBLIN}: unknown key 'organization' (did you mean 'organisation'?)"),
    ("needs.toml", 'needs = ["housing"]', 'need = ["housing"]',
     "practice 'lublinas-gimenes-palidzibas-centri': unknown key 'need' (did you mean 'needs'?)"),
    ("needs.toml", "[practice.parejas", "[practices.parejas",
     "unknown table 'practices' (did you mean 'practice'?)"),
    ("repairs.toml", "[[fragment]]", "[[fragments]]",
     "unknown table 'fragments' (did you mean 'fragment'?)"),
    ("handbook_en.toml", 'name = "Continuously assess needs"', 'title = "Continuously"',
     "success_factor '1-pastavigi-izvertejiet-vajadzibas': unknown key 'title'"),
    # a detail the other vocabulary keeps is not silently dropped
    ("needs.toml", 'keywords_en = "housing home', 'about = "a home"\nkeywords_en = "housing home',
     "need #1 'housing': unknown key 'about'"),
    ("activities.toml", 'about = "surveys', 'keywords_lv = "aptaujas"\nabout = "surveys',
     "activity #1 'needs-assessment': unknown key 'keywords_lv'"),
    # the Russian and Ukrainian words of the vocabularies
    ("needs.toml", 'keywords_ru = "жильё', 'keywords_rus = "жильё',
     "need #1 'housing': unknown key 'keywords_rus' (did you mean 'keywords_ru'?)"),
    ("activities.toml", 'about_uk = "опитування', 'keywords_uk = "опитування',
     "activity #1 'needs-assessment': unknown key 'keywords_uk'"),
    ("needs.toml", 'uk = "Житло"\n', "",
     "need #1 'housing': missing key 'uk'"),
    ("activities.toml", 'ru = "Изучение потребностей и сбор данных"\n', "",
     "activity #1 'needs-assessment': missing key 'ru'"),
    ("needs.toml", 'ru = "Жильё"', 'ru = " "', "need #1 'housing': key 'ru' must not be empty"),
    # missing keys
    ("practices.toml", 'city = "Lublin"\ncountries = ["PL"]\n', 'city = "Lublin"\n',
     f"{LUBLIN}: missing key 'countries'"),
    ("practices.toml", 'id = "lublinas-gimenes-palidzibas-centri"\n', "",
     "practice #2 'Ļubļinas ģimenes palīdzības centri': missing key 'id'"),
    ("practices_en.toml", 'title = "Lublin Family Support Centres"\n', "",
     "practice 'lublinas-gimenes-palidzibas-centri': missing key 'title'"),
    ("references.toml", 'title = "Age, Gender and Diversity Policy"\n', "",
     "reference #3 'UNHCR, Age, Gender': missing key 'title'"),
    # wrong types and values
    ("practices.toml", 'countries = ["PL"]', 'countries = "PL"',
     f"{LUBLIN}: key 'countries' must be a list, got 'PL'"),
    ("practices.toml", 'countries = ["PL"]', 'countries = ["XX"]',
     f"{LUBLIN}: key 'countries' must be ISO 3166-1 alpha-2 codes, got ['XX']"),
    ("practices.toml", 'id = "lublinas-gimenes-palidzibas-centri"', 'id = "Lublin centres"',
     "practice #2 'Lublin centres': key 'id' must be lower-case ASCII letters, digits and hyphens"),
    ("practices.toml", 'title = "Humans in the Loop"', 'title = " "',
     f"practice #4 '{HUMANS}': key 'title' must not be empty"),
    ("references.toml", "year = 2018", 'year = "2018"',
     "reference #1 'PandPAS,': key 'year' must be a whole number, got '2018'"),
    ("repairs.toml", "area = 3", 'area = "3"',
     "references_start #1 'Bamberg K.; Nicoletti R.': key 'area' must be a whole number, got '3'"),
    ("checklist_needs.toml", 'activities = ["feedback"]', 'activities = "feedback"',
     "item 'area-1-06': key 'activities' must be a list, got 'feedback'"),
    ("handbook_en.toml", 'keywords = ["needs assessment",', "keywords = [1,",
     "item 'area-1-01': key 'keywords' item #1 must be text, got 1"),
    # the same key twice
    ("practices.toml", 'id = "lublinas-gimenes-palidzibas-centri"', f'id = "{HUMANS}"',
     "practice #2 ('Ļubļinas ģimenes palīdzības centri') and "
     f"practice #4 ('Humans in the Loop') have the same id '{HUMANS}'"),
    ("needs.toml", 'code = "employment"', 'code = "housing"',
     "need #1 ('Housing') and need #2 ('Employment and entrepreneurship') have the same code "
     "'housing'"),
    # codes of the vocabularies
    ("needs.toml", 'needs = ["housing"]', 'needs = ["shelter"]',
     "practice 'lublinas-gimenes-palidzibas-centri' has unknown needs ['shelter']"),
    ("activities.toml", 'activities = ["housing-provision", "funding"]',
     'activities = ["funding", "funding"]',
     "practice 'lublinas-gimenes-palidzibas-centri' lists one of its activities twice"),
    # the practice template's facts
    ("practice_facts.toml", "period_start = 2017\n", "period_starts = 2017\n",
     f"practice '{HUMANS}': unknown key 'period_starts' (did you mean 'period_start'?)"),
    ("practice_facts.toml", 'period_start = 2017\nsays = ["dibināts 2017. gadā"]',
     "period_start = 2017",
     f"practice '{HUMANS}': missing key 'says'"),
    ("practice_facts.toml", "period_start = 2017", 'period_start = "2017"',
     f"practice '{HUMANS}': key 'period_start' must be a whole number, got '2017'"),
    ("practice_facts.toml", 'target_groups = ["women"]\nsays = ["sieviešu',
     'target_groups = ["woman"]\nsays = ["sieviešu',
     "practice 'yalla-trappan': key 'target_groups' item #1 must be one of the codes"),
    ("practice_facts.toml", 'languages = ["tr"]', 'languages = ["turkish"]',
     "must be ISO 639-1 language codes, got ['turkish']"),
    ("practice_facts.toml", "period_end = 2024", "period_end = 2019",
     "practice 'vietejie-ricibas-plani-vrp-serbija' period_end is before period_start"),
])
def test_a_bad_data_file_is_refused_naming_file_entry_and_key(tmp_path, file, old, new, message):
    data = copy_data(tmp_path)
    edit(data, file, old, new)
    error = error_of(data)
    assert error.startswith(f"{data / file}: ") and message in error


def test_a_misspelt_key_is_one_problem_and_every_problem_is_listed(tmp_path):
    data = copy_data(tmp_path)
    edit(data, "practices.toml", 'organisation = "Ļubļinas', 'organization = "Ļubļinas')
    edit(data, "practices.toml", 'countries = ["BG"]', 'countries = "BG"')
    assert error_of(data) == (
        f"{data / 'practices.toml'}: {LUBLIN}: unknown key 'organization' (did you mean "
        f"'organisation'?); practice #4 '{HUMANS}': key 'countries' must be a list, got 'BG'")


def test_toml_syntax_errors_name_the_file_and_line(tmp_path):
    data = copy_data(tmp_path)
    edit(data, "activities.toml", "\n[[activity]]\ncode", "\n[[activity]\ncode")
    path = re.escape(str(data / "activities.toml"))
    assert re.fullmatch(rf"{path}: .*\(at line \d+, column \d+\)", error_of(data))


def test_a_bad_data_file_stops_ingest_and_leaves_the_database_unchanged(engine, runner, tmp_path,
                                                                         monkeypatch):
    from test_ingest_load import snapshot

    from kb.cli import cli
    ingest(CORPUS, engine, CURATION)
    before = snapshot(engine)
    data = copy_data(tmp_path)
    edit(data, "practices.toml", 'organisation = "Ļubļinas', 'organization = "Ļubļinas')
    message = (f"{data / 'practices.toml'}: {LUBLIN}: unknown key 'organization' "
               "(did you mean 'organisation'?)")
    with pytest.raises(IngestError) as caught:
        ingest(CORPUS, engine, data)
    assert str(caught.value) == message  # the data file's name, not the handbook's
    monkeypatch.setenv("KB_CURATION_DIR", str(data))
    result = runner.invoke(cli, ["ingest"])
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\nThe database was left unchanged.\n"
    assert snapshot(engine) == before


def test_the_real_data_files_load(curation):
    assert len(curation.practices) == 62
    assert len(curation.needs) == 17 and len(curation.activities) == 34
    assert len(curation.practice_needs) == len(curation.practice_activities) == 62
    assert len(curation.item_annotations) == 93 and len(curation.english) == 62
    tables = ("area", "success_factor", "checklist", "item")
    assert [len(curation.structure_en[t]) for t in tables] == [6, 30, 8, 93]
    assert curation.practice_activities[HUMANS][0] == "feedback"


@pytest.mark.parametrize("vocabulary", [NEEDS, ACTIVITIES], ids=lambda v: v.file)
def test_needs_and_activities_have_one_layout(vocabulary):
    data = tomllib.loads((CURATION / vocabulary.file).read_text(encoding="utf-8"))
    assert set(data) == {vocabulary.entry, "practice"}
    labels = {"code", "lv", "en", "ru", "uk"}
    assert all(labels <= set(term) <= {*labels, *vocabulary.details}
               for term in data[vocabulary.entry])
    assert all(set(entry) == {vocabulary.codes} for entry in data["practice"].values())
    schema = vocabulary_schema(vocabulary.entry, vocabulary.codes, vocabulary.details)
    schema.model_validate(data)


def test_every_need_and_activity_has_russian_and_ukrainian_words(curation):
    cyrillic = re.compile(r"^[\u0400-\u04ff\s'’,:;«»()+.-]+$")
    for term in [*curation.needs, *curation.activities]:
        texts = [term.ru, term.uk, *(getattr(term, key) for key in (
            "keywords_ru", "keywords_uk", "about_ru", "about_uk") if hasattr(term, key))]
        # Latin only where the Latvian has it too (IT, LGBT): the rest is Cyrillic
        assert all(cyrillic.match(re.sub(r"\b(IT|ЄС|ЕС)\b", "", text)) for text in texts), term.code
    housing = next(n for n in curation.needs if n.code == "housing")
    assert (housing.ru, housing.uk) == ("Жильё", "Житло")


def judged_practices() -> set[str]:
    """Every practice the judges of the evaluation sets saw (all of them, as it happens)."""
    ids = set()
    for name, key in (("search", "queries"), ("recommend", "items")):
        judged = json.loads((CURATION / "eval" / "judgments" / f"{name}.json").read_text("utf-8"))
        for entry in judged[key]:
            ids |= set(entry["first"]) | set(entry["second"]) | set(entry["third"])
    return ids


def test_practice_ids_are_the_ids_the_evaluation_was_judged_with(handbook, curation):
    ids = [p.id for p in handbook.practices]
    assert len(ids) == len(set(ids)) == 62
    assert set(ids) == judged_practices()
    assert {p.id for p in curation.practices} == set(ids)
    for name in ("search", "recommend"):
        entries = tomllib.loads((CURATION / "eval" / f"{name}.toml").read_text("utf-8"))
        relevant = {p for entry in next(iter(entries.values())) for p in entry["relevant"]}
        assert relevant <= set(ids)


def test_correcting_a_title_keeps_the_practice_id(tmp_path, handbook_text):
    data = copy_data(tmp_path)
    edit(data, "practices.toml", 'title = "Humans in the Loop"', 'title = "Humāni cilpā (HITL)"')
    practices = {p.id: p for p in parse_handbook(handbook_text, load_curation(data)).practices}
    practice = practices[HUMANS]
    assert practice.title == "Humāni cilpā (HITL)"
    # what the other data files say about the practice still reaches it
    assert practice.title_en == "Humans in the Loop"
    assert practice.needs == ["employment", "participation"]
    assert practice.activities[0] == "feedback"


def test_practice_facts_are_what_the_text_says(handbook, curation):
    practices = {p.id: p for p in handbook.practices}
    assert len(curation.facts) == 46
    assert practices[HUMANS].facts["period_start"] == 2017
    womento = practices["womento"].facts
    assert womento["ongoing"] and womento["target_groups"] == ["women"]
    assert practices["kironas-universitate"].facts["reach"] == 1500
    assert practices["gdanskas-imigrantu-padome"].facts["funding_band"] == "none"
    assert practices["tolerantas-igaunijas-koncerti"].facts == {}  # the text states none
    for practice_id, facts in curation.facts.items():
        flat = " ".join(practices[practice_id].text.split())
        assert all(" ".join(phrase.split()) in flat for phrase in facts.says), practice_id


def test_a_fact_whose_words_are_not_in_the_text_is_an_error(tmp_path, handbook_text):
    data = copy_data(tmp_path)
    edit(data, "practice_facts.toml", 'says = ["dibināts 2017. gadā"]',
         'says = ["dibināts 2016. gadā"]')
    with pytest.raises(CurationError, match=r"practice_facts.toml: practice 'humans-in-the-loop': "
                                            r"says 'dibināts 2016. gadā', which is not in its text"):
        parse_handbook(handbook_text, load_curation(data))
    edit(data, "practice_facts.toml", "[practice.humans-in-the-loop]", "[practice.hitl]")
    with pytest.raises(CurationError, match=r"practice_facts.toml: unknown practice IDs \['hitl'"):
        parse_handbook(handbook_text, load_curation(data))


def test_an_id_no_data_file_knows_is_an_error(tmp_path, handbook_text):
    data = copy_data(tmp_path)
    edit(data, "practices.toml", f'id = "{HUMANS}"', 'id = "hitl"')
    with pytest.raises(CurationError, match=r"practices_en.toml: unknown practice IDs \['humans"):
        parse_handbook(handbook_text, load_curation(data))
