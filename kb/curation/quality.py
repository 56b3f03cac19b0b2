"""Quality scoring of a practice on the handbook's criteria (section 7), and the good-practice rule.

Each indicator is scored met (1), partly (0.5), not met (0) or unknown (left out). A domain's
score is the mean of its known indicators in percent, if at least half of its indicators are
known; otherwise the domain is not scored. The overall score is the mean of the five domain
scores. A practice is a *good practice* when every domain is scored and reaches
KB_QUALITY_DOMAIN_MIN (default 50 %) and the overall score reaches KB_QUALITY_OVERALL_MIN
(default 70 %).

Every change of a practice's scores is kept in its change log (action "scored"): who, when,
each indicator changed before → after, and the overall score and verdict when they changed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.core.config import setting
from kb.core.models import GuidingQuestion, Practice, PracticeChange, QualityDomain, QualityScore

VALUES = {"met": 1.0, "partly": 0.5, "not_met": 0.0, "unknown": None}


@dataclass
class QualityResult:
    domains: dict[int, float | None]
    overall: float | None
    good_practice: bool


def domains_with_indicators(session: Session) -> list[QualityDomain]:
    return list(session.scalars(select(QualityDomain).order_by(QualityDomain.id).options(
        selectinload(QualityDomain.questions).selectinload(GuidingQuestion.indicators))))


def score(values: dict[str, str], domains: list[QualityDomain],
          domain_min: float | None = None, overall_min: float | None = None) -> QualityResult:
    """Domain and overall scores of ``values`` (indicator id -> value), and the verdict."""
    domain_min = setting("KB_QUALITY_DOMAIN_MIN") if domain_min is None else domain_min
    overall_min = setting("KB_QUALITY_OVERALL_MIN") if overall_min is None else overall_min
    result: dict[int, float | None] = {}
    for domain in domains:
        indicators = [i.id for q in domain.questions for i in q.indicators]
        known = [VALUES[values[i]] for i in indicators
                 if VALUES.get(values.get(i, "unknown")) is not None]
        result[domain.id] = (round(100 * sum(known) / len(known), 1)
                             if indicators and len(known) * 2 >= len(indicators) else None)
    scored = [v for v in result.values() if v is not None]
    overall = round(sum(scored) / len(result), 1) if scored and len(scored) == len(result) else None
    good = (overall is not None and overall >= overall_min
            and all(v is not None and v >= domain_min for v in result.values()))
    return QualityResult(result, overall, good)


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
