"""Curator rules without the web: accounts, review workflow, quality scores, export/import."""
from __future__ import annotations

import csv
import io
import json

import pytest

from kb.curation import accounts, quality, review, transfer
from kb.core.db import session_factory
from kb.ingest import IngestError, ingest
from kb.core.models import CURATOR, PUBLISHED, Practice

from conftest import CORPUS, CURATION

GOOD = {"title": "Rīgas valodu kafejnīca", "countries": ["LV"], "area": "5",
        "success_factor": "5-visa-atbalsta-modelu-klasta-izmantosana",
        "text": "Brīvprātīgie rīko sarunu vakarus latviešu valodā.", "needs": ["language"],
        "activities": ["language-course", "volunteer-coordination"],
        "urls": ["https://example.lv/kafejnica"]}


@pytest.fixture()
def session(handbook_db):
    with session_factory(handbook_db)() as session:
        yield session


@pytest.fixture()
def people(session):
    return (accounts.add_curator(session, "anna@example.lv", "anna-password-1"),
            accounts.add_curator(session, "janis@example.lv", "janis-password-1"),
            accounts.add_curator(session, "boss@example.lv", "boss-password-1", admin=True))


@pytest.mark.parametrize("email, password, message", [
    ("not-an-email", "long-enough-1", "not an email"), ("a@b.lv", "short", "at least 10"),
])
def test_account_rules(session, email, password, message):
    with pytest.raises(accounts.AccountError, match=message):
        accounts.add_curator(session, email, password)


def test_passwords_are_hashed_and_checked(session, people):
    anna = people[0]
    assert "anna-password-1" not in anna.password_hash and anna.password_hash.count("$") >= 2
    assert accounts.authenticate(session, "ANNA@example.lv ", "anna-password-1") == anna
    assert accounts.authenticate(session, "anna@example.lv", "wrong") is None
    assert accounts.authenticate(session, "nobody@example.lv", "anna-password-1") is None
    with pytest.raises(accounts.AccountError, match="exists already"):
        accounts.add_curator(session, "anna@example.lv", "another-password")


def test_rate_counter_window(session):
    from datetime import timedelta
    assert [accounts.hit(session, "k", timedelta(minutes=5)) for _ in range(3)] == [1, 2, 3]
    assert accounts.count(session, "k", timedelta(minutes=5)) == 3
    assert accounts.count(session, "k", timedelta(seconds=0)) == 0  # window over
    accounts.clear(session, "k")
    assert accounts.count(session, "k", timedelta(minutes=5)) == 0


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"), ({"title": "x" * 301}, "title"), ({"countries": []}, "countries"),
    ({"countries": ["XX"]}, "countries"), ({"countries": ["EU"]}, "countries"),
    ({"countries": ["ZZ"]}, "countries"), ({"area": "9"}, "area"), ({"area": "x"}, "area"),
    ({"success_factor": "1-pastavigi-izvertejiet-vajadzibas"}, "success_factor"),
    ({"text": "", "summary_en": ""}, "text"), ({"needs": ["pets"]}, "needs"),
    ({"activities": ["juggling"]}, "activities"),
    ({"urls": ["javascript:alert(1)"]}, "urls"), ({"urls": ["https://x.lv"] * 11}, "urls"),
    ({"contact": "x" * 301}, "contact"),
])
def test_submissions_are_validated_per_field(session, change, field):
    with pytest.raises(review.ReviewError) as error:
        review.submit(session, {**GOOD, **change}, None, via="public")
    assert field in error.value.errors


def test_workflow_and_change_log(session, people):
    anna, janis, boss = people
    practice = review.submit(session, GOOD, anna, via="curator")
    assert (practice.status, practice.source, practice.id) == ("pending", CURATOR, "rigas-valodu-kafejnica")
    with pytest.raises(review.ReviewError, match="own submission"):
        review.decide(session, practice, "publish", anna)
    with pytest.raises(review.ReviewError):
        review.decide(session, practice, "reject", janis)  # a reason is required
    review.decide(session, practice, "request_changes", janis, "Pievienojiet pilsētu.")
    review.edit(session, practice, {**GOOD, "city": "Rīga"}, anna)
    review.decide(session, practice, "publish", janis)
    assert practice.status == PUBLISHED
    log = review.history(session, practice.id)
    assert [c.action for c in log] == ["submitted", "request_changes", "edited", "publish"]
    assert log[2].fields == {"city": ["", "Rīga"]} and log[2].curator_id == anna.id
    assert log[1].reason == "Pievienojiet pilsētu." and log[3].fields["status"] == ["changes_requested", "published"]
    own = review.submit(session, {**GOOD, "title": "Cits"}, boss, via="curator")
    review.decide(session, own, "publish", boss)  # an admin may
    assert own.status == PUBLISHED
    assert review.submit(session, GOOD, None, via="public").id == "rigas-valodu-kafejnica-2"


def test_activities_keep_their_order_and_their_changes_are_logged(session, people):
    anna = people[0]
    practice = review.submit(session, GOOD, anna, via="curator")
    assert practice.activity_codes == ["language-course", "volunteer-coordination"]
    review.edit(session, practice, {**GOOD, "activities": ["mentoring", "language-course"]}, anna)
    assert practice.activity_codes == ["mentoring", "language-course"]
    assert review.history(session, practice.id)[-1].fields == {"activities": [
        ["language-course", "volunteer-coordination"], ["mentoring", "language-course"]]}


def test_quality_scores_and_the_good_practice_rule(session, people):
    domains = quality.domains_with_indicators(session)
    indicators = [i.id for d in domains for q in d.questions for i in q.indicators]
    all_met = quality.score({i: "met" for i in indicators}, domains)
    assert all_met.overall == 100 and all_met.good_practice
    half = quality.score({i: ("met" if n % 2 else "not_met") for n, i in enumerate(indicators)}, domains)
    assert not half.good_practice  # overall below 70
    unknown = quality.score({indicators[0]: "met"}, domains)
    assert unknown.overall is None and not unknown.good_practice
    partly = quality.score({i: "partly" for i in indicators}, domains, domain_min=50, overall_min=50)
    assert partly.overall == 50 and partly.good_practice
    practice = review.submit(session, GOOD, people[0], via="curator")
    result = quality.save_scores(session, practice, {i: "met" for i in indicators}, people[1].id)
    assert practice.good_practice and practice.quality_overall == 100 and result.good_practice
    with pytest.raises(ValueError):
        quality.save_scores(session, practice, {"9.9.9": "met"}, None)
    with pytest.raises(ValueError):
        quality.save_scores(session, practice, {indicators[0]: "excellent"}, None)


def test_export_and_import_round_trip(session, people):
    practice = review.submit(session, GOOD, people[0], via="curator")
    review.decide(session, practice, "publish", people[1])
    lines = transfer.export_jsonl(session).splitlines()
    assert len(lines) == 63 and json.loads(lines[0])["id"]
    mine = next(json.loads(line) for line in lines if "kafejnica" in line)
    assert mine["countries"] == ["LV"] and mine["source"] == "curator"
    assert mine["activities"] == ["language-course", "volunteer-coordination"]  # order kept
    csv_text = transfer.export_csv(session)
    assert csv_text.splitlines()[0].startswith("id,title,") and "rigas-valodu-kafejnica" in csv_text
    assert transfer.csv_cell("=1+2") == "'=1+2" and transfer.csv_cell("@A1") == "'@A1"
    assert transfer.csv_cell("Kafejnīca") == "Kafejnīca" and transfer.csv_cell(5) == 5
    practice.organisation = "=HYPERLINK(\"https://x.example\")"
    session.flush()
    mine_csv = next(r for r in csv.DictReader(io.StringIO(transfer.export_csv(session)))
                    if r["id"] == "rigas-valodu-kafejnica")
    assert mine_csv["organisation"] == "'=HYPERLINK(\"https://x.example\")"
    practice.organisation = GOOD.get("organisation", "")
    session.flush()
    mine["title"] = "Rīgas valodu kafejnīca (atjaunināts)"
    new = {**mine, "id": "jauna-prakse", "title": "Jauna prakse"}
    report = transfer.import_jsonl(session, json.dumps(mine) + "\n" + json.dumps(new) + "\n")
    assert report.created == ["jauna-prakse"] and report.updated == ["rigas-valodu-kafejnica"]
    assert session.get(Practice, "jauna-prakse").status == PUBLISHED
    older = {k: v for k, v in mine.items() if k != "activities"}  # exported before activities
    transfer.import_jsonl(session, json.dumps(older) + "\n")
    assert session.get(Practice, "rigas-valodu-kafejnica").activity_codes == mine["activities"]


def test_import_reports_bad_lines_and_imports_nothing(session):
    good = {**GOOD, "id": "laba"}
    lines = [json.dumps(good), "{not json", json.dumps({**GOOD, "id": "humans-in-the-loop"}),
             json.dumps({**GOOD, "id": "bez-valsts", "countries": []}), json.dumps([1, 2]),
             json.dumps({**GOOD, "id": "darbiba", "activities": "mentoring"}),
             json.dumps({**GOOD, "id": "skaitlis", "activities": [5]})]
    with pytest.raises(transfer.ImportError_) as error:
        transfer.import_jsonl(session, "\n".join(lines))
    problems = error.value.problems
    assert problems[0].startswith("line 2: not JSON")
    assert problems[1].startswith("line 3:") and "handbook practice" in problems[1]
    assert problems[2].startswith("line 4: countries")
    assert problems[3].startswith("line 5: expected a JSON object")
    assert problems[4] == "line 6: activities must be a list"
    assert problems[5] == "line 7: activities: activities must be a list of codes"
    assert session.get(Practice, "laba") is None


def test_ingest_never_overwrites_curator_work(session, handbook_db, people):
    practice = review.submit(session, {**GOOD, "title": "Humans in the Loop Rīgā"}, people[0], "curator")
    session.commit()
    ingest(CORPUS, handbook_db, CURATION)
    session.expire_all()
    assert session.get(Practice, practice.id).title == "Humans in the Loop Rīgā"
    # A curator's practice that took an ID a handbook practice needs stops ingest, untouched.
    session.get(Practice, "humans-in-the-loop").source = CURATOR
    session.commit()
    with pytest.raises(IngestError, match="belongs to a curator"):
        ingest(CORPUS, handbook_db, CURATION)
