"""Assessments over time: a follow-up round starts from the previous round's answers, and the
summary compares the rounds -- each area's share of tasks met per round, the items newly met
and the items that slipped since the round before.

The rounds of an assessment form a line: round 1, its follow-up round 2, and so on; a round
that has a follow-up already is not followed up again (the latest round is).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.assessment import assess
from kb.core.messages import N_
from kb.assessment.assess import AssessmentError, answers_of
from kb.core.models import Assessment, AssessmentAnswer


def _load(session: Session, **where) -> Assessment | None:
    query = select(Assessment).options(selectinload(Assessment.answers),
                                       selectinload(Assessment.notes))
    for name, value in where.items():
        query = query.where(getattr(Assessment, name) == value)
    return session.scalar(query.order_by(Assessment.id).limit(1))


def rounds_of(session: Session, assessment: Assessment) -> list[Assessment]:
    """Every round of ``assessment``'s line, oldest first."""
    line = [assessment]
    while line[0].previous_id is not None:
        earlier = _load(session, id=line[0].previous_id)
        if earlier is None:
            break
        line.insert(0, earlier)
    while (later := _load(session, previous_id=line[-1].id)) is not None:
        line.append(later)
    return line


def follow_up(session: Session, assessment: Assessment) -> Assessment:
    """A new round after ``assessment``, dated now, with its answers copied (notes start
    empty: they are about the new round)."""
    if assessment.team_id is not None:
        raise AssessmentError(N_("A team member's answers have no follow-up; the team round's "
                                 "owner starts one."), "token")
    later = _load(session, previous_id=assessment.id)
    if later is not None:
        raise AssessmentError(N_("Round %(round)d has a follow-up already: round %(later)d; "
                                 "follow that one up."), "token", round=assessment.round,
                              later=later.round)
    new = Assessment(token=assess.new_token(), organisation=assessment.organisation,
                     organisation_type=assessment.organisation_type,
                     previous_id=assessment.id, round=assessment.round + 1)
    new.answers = [AssessmentAnswer(item_id=i, status=s)
                   for i, s in sorted(answers_of(assessment).items())]
    session.add(new)
    session.flush()
    return new


@dataclass
class RoundScores:
    round: int
    token: str
    created_at: object
    updated_at: object
    percent: dict[str, int | None]   # page -> share of applicable items met (None: none apply)


@dataclass
class Comparison:
    rounds: list[RoundScores]
    newly_met: list[str]    # items met now that were not met in the round before
    slipped: list[str]      # items met in the round before and not met now


def compare(session: Session, line: list[Assessment]) -> Comparison:
    """Per-area shares over the rounds; newly met and slipped items of the last round."""
    scores = []
    for round_ in line:
        pages = assess.summarize(session, round_)
        scores.append(RoundScores(round_.round, round_.token, round_.created_at,
                                  round_.updated_at,
                                  {p.page: p.percent if p.applicable else None for p in pages}))
    newly, slipped = [], []
    if len(line) > 1:
        before, now = answers_of(line[-2]), answers_of(line[-1])
        order = {i: n for n, i in enumerate(_item_order(session))}
        newly = sorted((i for i, s in now.items() if s == "met" and before.get(i) != "met"),
                       key=order.get)
        slipped = sorted((i for i, s in before.items() if s == "met" and now.get(i) == "unmet"),
                         key=order.get)
    return Comparison(scores, newly, slipped)


def _item_order(session: Session) -> list[str]:
    return [i.id for page in assess.PAGES for c in assess.page_checklists(session, page)
            for i in c.items]
