"""Curators' quality scoring of a practice on the handbook's criteria (section 7).

The rule -- domain scores, overall score, good practice -- is kb.core.quality's, the same one
practitioners' assessment table (/quality-check) uses.

Every change of a practice's scores is kept in its change log (action "scored"): who, when,
each indicator changed before → after, and the overall score and verdict when they changed.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.core.models import Practice, PracticeChange, QualityCheck, QualityScore
from kb.core.quality import VALUES, QualityResult, domains_with_indicators, score

__all__ = ["VALUES", "QualityResult", "domains_with_indicators", "save_scores", "score",
           "scores_of", "self_scores_of", "attach_self_scores",
           "check_of_token"]


def save_scores(session: Session, practice: Practice, values: dict[str, str],
                curator_id: int | None) -> QualityResult:
    """Store the scores of ``practice`` and its overall score and verdict; log what changed."""
    domains = domains_with_indicators(session)
    order = [i.id for d in domains for q in d.questions for i in q.indicators]
    known = set(order)
    bad = sorted(k for k in values if k not in known)
    if bad:
        raise ValueError(f"unknown quality indicators: {', '.join(bad)}")
    wrong = sorted(k for k, v in values.items() if v not in VALUES)
    if wrong:
        raise ValueError(f"a score must be one of {', '.join(VALUES)} ({wrong[0]})")
    existing = {s.indicator_id: s for s in session.scalars(
        select(QualityScore).where(QualityScore.practice_id == practice.id))}
    changed: dict[str, list] = {}
    for indicator_id in (i for i in order if i in values):
        value, row = values[indicator_id], existing.get(indicator_id)
        before = row.value if row is not None else "unknown"  # no score is an unknown one
        if before != value:
            changed[indicator_id] = [before, value]
        if row is None:
            session.add(QualityScore(practice_id=practice.id, indicator_id=indicator_id,
                                     value=value, curator_id=curator_id))
        elif row.value != value:
            row.value, row.curator_id = value, curator_id
    result = score({**{k: s.value for k, s in existing.items()}, **values}, domains)
    if changed:
        if practice.quality_overall != result.overall:
            changed["quality_overall"] = [practice.quality_overall, result.overall]
        if bool(practice.good_practice) != result.good_practice:
            changed["good_practice"] = [bool(practice.good_practice), result.good_practice]
        session.add(PracticeChange(practice_id=practice.id, curator_id=curator_id,
                                   action="scored", fields=changed))
    practice.quality_overall = result.overall
    practice.good_practice = result.good_practice
    session.flush()
    return result


def scores_of(session: Session, practice_id: str) -> dict[str, str]:
    return {s.indicator_id: s.value for s in session.scalars(
        select(QualityScore).where(QualityScore.practice_id == practice_id))}


def self_scores_of(session: Session, practice_id: str) -> QualityCheck | None:
    """The submitter's own scoring (the assessment table) the practice was suggested with."""
    return session.scalar(select(QualityCheck).where(QualityCheck.practice_id == practice_id)
                          .order_by(QualityCheck.id.desc()).limit(1))


def check_of_token(session: Session, token: str) -> QualityCheck | None:
    """A saved assessment table by its secret token (None for a wrong one)."""
    if not token or len(token) > 64:
        return None
    return session.scalar(select(QualityCheck).where(QualityCheck.token == token))


def attach_self_scores(session: Session, token: str, practice_id: str) -> QualityCheck | None:
    """Link the submitter's saved assessment table (its secret ``token``) to the practice they
    suggested, so that curators see those self-scores beside their own."""
    check = check_of_token(session, token)
    if check is not None:
        check.practice_id = practice_id
        session.flush()
    return check
