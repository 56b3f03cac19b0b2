"""Self-assessment rules: creation, three-way merge, limits, the handbook's reading."""
from __future__ import annotations

import pytest

from kb.assessment import assess


@pytest.fixture()
def session(handbook_db):
    from kb.core.db import session_factory
    with session_factory(handbook_db)() as session:
        yield session


def test_tokens_are_unguessable_and_unique(session):
    tokens = {assess.create(session).token for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) >= 32 for t in tokens)  # 24 bytes = 192 bits
    assert assess.get_by_token(session, "nope") is None
    assert assess.get_by_token(session, "") is None


@pytest.mark.parametrize("organisation, kind, field", [
    ("x" * 201, "", "organisation"), ("Dome", "club", "organisation_type")])
def test_create_validates(session, organisation, kind, field):
    with pytest.raises(assess.AssessmentError) as error:
        assess.create(session, organisation, kind)
    assert error.value.field == field


def test_save_and_summarize(session):
    a = assess.create(session, "Rīgas dome", "municipality")
    items = [i.id for c in assess.page_checklists(session, "1") for i in c.items]
    answers = {items[0]: "met", items[1]: "unmet", items[2]: "na"}
    result = assess.save_page(session, a, "1", answers, {}, "Piezīmes", "")
    assert result.conflicts == [] and result.note_error is None
    page1, page2 = assess.summarize(session, a)[:2]
    assert (page1.met, page1.applicable, page1.not_applicable) == (1, 2, 1)
    assert page1.reading == "some" and [i.id for i in page1.unmet] == [items[1]]
    assert page1.note == "Piezīmes" and page2.reading == "open"
    assess.save_page(session, a, "1", {items[1]: "met"}, {items[1]: "unmet"}, "Piezīmes", "Piezīmes")
    assert assess.summarize(session, a)[0].reading == "all"
    assess.save_page(session, a, "1", {items[0]: "unmet", items[1]: "unmet"},
                     {items[0]: "met", items[1]: "met"}, "Piezīmes", "Piezīmes")
    assert assess.summarize(session, a)[0].reading == "none"


def test_two_tabs_lose_nothing_silently(session):
    a = assess.create(session)
    items = [i.id for c in assess.page_checklists(session, "2") for i in c.items]
    # Both tabs open the empty page. Tab A answers item 0 and writes notes.
    assess.save_page(session, a, "2", {items[0]: "met"}, {}, "A piezīmes", "")
    # Tab B, still showing the empty page, answers item 1 and item 0 differently, new notes.
    result = assess.save_page(session, a, "2", {items[0]: "unmet", items[1]: "met"}, {},
                              "B piezīmes", "")
    answers = assess.answers_of(a)
    assert answers[items[1]] == "met"
    assert answers[items[0]] == "unmet" and result.conflicts == [items[0]]  # reported
    assert result.note_merged and assess.note_of(a, "2") == "A piezīmes\n\n---\n\nB piezīmes"
    # A tab that did not touch an item never overwrites it.
    assess.save_page(session, a, "2", {items[0]: "met"}, {items[0]: "unmet"}, "", "")
    assert assess.answers_of(a)[items[0]] == "met"


def test_long_notes_are_refused_but_answers_saved(session):
    a = assess.create(session)
    item = assess.page_checklists(session, "general")[0].items[0].id
    result = assess.save_page(session, a, "general", {item: "met"}, {}, "x" * 5001, "")
    assert result.note_error and "5001" in result.note_error
    assert assess.answers_of(a) == {item: "met"} and assess.note_of(a, "general") == ""


@pytest.mark.parametrize("answers, field", [
    ({"area-2-01": "met"}, "answers"),        # an item of another page
    ({"area-1-01": "yes"}, "area-1-01"),      # a tampered value
    ({"no-such-item": "met"}, "answers"),
])
def test_tampered_answers_are_refused(session, answers, field):
    a = assess.create(session)
    with pytest.raises(assess.AssessmentError) as error:
        assess.save_page(session, a, "1", answers, {}, "", "")
    assert error.value.field == field


def test_unknown_page(session):
    with pytest.raises(assess.AssessmentError):
        assess.page_checklists(session, "7")
