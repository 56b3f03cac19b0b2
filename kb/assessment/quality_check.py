"""The assessment table (handbook: "tiešsaistes novērtējuma tabula"): anyone scores their own
practice on the 34 quality indicators, by the rule curators use (kb.core.quality), and sees
the weakest domains with the handbook's guidance and the handbook's practices that do what
those domains ask.

Practices are matched by what the domain's guiding questions are about (corpus/criteria_en.toml:
activities, needs, success factors), weighted towards the questions whose indicators are not
met; a match lists what it shares, and no practice is given a quality score it does not have.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.core.models import (HANDBOOK, PUBLISHED, ChecklistItem, Practice, QualityCheck,
                            QualityDomain)
from kb.core.quality import NUMBERS, VALUES, QualityResult, domains_with_indicators, score
from kb.core.messages import N_
from kb.assessment.assess import AssessmentError, new_token

TITLE_LIMIT = 200
PER_DOMAIN = 3    # practices shown for each weak domain
WEAKEST = 2       # weak domains shown
ACTIVITY_WEIGHT, FACTOR_WEIGHT, NEED_WEIGHT = 2.0, 1.5, 1.0


def parse_scores(raw: dict, domains: list[QualityDomain]) -> dict[str, str]:
    """Indicator id -> met/partly/not_met/unknown, from the API's numbers (1, 0.5, 0, null) or
    the form's names; an unknown indicator or value is an AssessmentError naming it."""
    known = {i.id for d in domains for q in d.questions for i in q.indicators}
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        raise AssessmentError(N_("Unknown quality indicators: %(ids)s; they are 1.1.1 ... 5.2.2 "
                                 "(GET /api/criteria)."), "scores", ids=", ".join(unknown[:5]))
    values = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not (value is None or isinstance(value, (int, float, str))):
            raise AssessmentError(N_("The score of %(id)s must be 1, 0.5, 0 or null."),
                                  f"scores.{key}", id=key)
        name = value if isinstance(value, str) else NUMBERS.get(value, "?")
        if name not in VALUES:
            raise AssessmentError(N_("The score of %(id)s must be 1, 0.5, 0 or null (met, partly, "
                                     "not met, unknown)."), f"scores.{key}", id=key)
        values[key] = name
    return values


@dataclass
class PracticeMatch:
    id: str
    title: str
    title_en: str
    activities: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    success_factor: str | None = None


@dataclass
class WeakDomain:
    domain: QualityDomain
    score: float | None
    open_indicators: list[str]       # indicator ids not met (partly, not met or unknown)
    guidance: list[ChecklistItem]    # the handbook's general checklist items for it
    practices: list[PracticeMatch]


@dataclass
class Evaluation:
    values: dict[str, str]
    result: QualityResult
    weakest: list[WeakDomain]


def evaluate(session: Session, values: dict[str, str],
             domains: list[QualityDomain] | None = None) -> Evaluation:
    """Scores, verdict and the weakest domains with guidance and practices."""
    domains = domains_with_indicators(session) if domains is None else domains
    result = score(values, domains)
    by_id = {d.id: d for d in domains}
    practices = _handbook_practices(session)
    weak = []
    for number in result.weakest(WEAKEST):
        domain = by_id[number]
        open_ids = [i.id for q in domain.questions for i in q.indicators
                    if values.get(i.id, "unknown") != "met"]
        guidance = list(session.scalars(select(ChecklistItem).where(
            ChecklistItem.id.in_(domain.guidance or [])).order_by(ChecklistItem.id)))
        weak.append(WeakDomain(domain, result.domains[number], open_ids, guidance,
                               match_practices(domain, values, practices)))
    return Evaluation(values, result, weak)


def _handbook_practices(session: Session) -> list[Practice]:
    return list(session.scalars(select(Practice).where(
        Practice.source == HANDBOOK, Practice.status == PUBLISHED).order_by(Practice.position)
        .options(selectinload(Practice.activities), selectinload(Practice.needs))))


def match_practices(domain: QualityDomain, values: dict[str, str], practices: list[Practice],
                    limit: int = PER_DOMAIN) -> list[PracticeMatch]:
    """The handbook's practices that do what the domain's questions ask, the questions with
    indicators not met counting fully and the others half; ties by the handbook's order."""
    wanted_activities: dict[str, float] = {}
    wanted_needs: dict[str, float] = {}
    wanted_factors: dict[str, float] = {}
    for question in domain.questions:
        weight = 1.0 if any(values.get(i.id, "unknown") != "met" for i in question.indicators) \
            else 0.5
        for table, codes in ((wanted_activities, question.activities or []),
                             (wanted_needs, question.needs or []),
                             (wanted_factors, question.success_factors or [])):
            for code in codes:
                table[code] = max(table.get(code, 0.0), weight)
    scored = []
    for practice in practices:
        activities = [a for a in practice.activity_codes if a in wanted_activities]
        needs = [n for n in practice.need_codes if n in wanted_needs]
        factor = practice.success_factor_id if practice.success_factor_id in wanted_factors else None
        total = (ACTIVITY_WEIGHT * sum(wanted_activities[a] for a in activities)
                 + NEED_WEIGHT * sum(wanted_needs[n] for n in needs)
                 + (FACTOR_WEIGHT * wanted_factors[factor] if factor else 0.0))
        if activities and total > 0:  # doing one of the things asked is what shows how
            scored.append((total, practice.position, PracticeMatch(
                practice.id, practice.title, practice.title_en, activities, needs, factor)))
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [match for _total, _position, match in scored[:limit]]


def shortfalls(result: QualityResult) -> list[tuple[str, int | None, float | None]]:
    """Why a result is not a good practice, rule by rule: ("unscored", domain, None) -- fewer
    than half its indicators known; ("below", domain, score) -- under the domain minimum;
    ("overall_below", None, overall). Empty for a good practice."""
    found: list[tuple[str, int | None, float | None]] = []
    for domain, value in result.domains.items():
        if value is None:
            found.append(("unscored", domain, None))
        elif value < result.domain_min:
            found.append(("below", domain, value))
    if result.overall is not None and result.overall < result.overall_min:
        found.append(("overall_below", None, result.overall))
    return found


def create(session: Session, values: dict[str, str], title: str = "",
           organisation: str = "") -> QualityCheck:
    title, organisation = title.strip(), organisation.strip()
    for name, text in (("title", title), ("organisation", organisation)):
        if len(text) > TITLE_LIMIT:
            raise AssessmentError(N_("The %(what)s may have at most %(most)d characters."), name,
                                  what=name, most=TITLE_LIMIT)
    check = QualityCheck(token=new_token(), title=title, organisation=organisation,
                         scores={k: v for k, v in values.items() if v != "unknown"})
    session.add(check)
    session.flush()
    return check


def get_by_token(session: Session, token: str) -> QualityCheck | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(QualityCheck).where(QualityCheck.token == token))
