"""The handbook's quality rule (section 7): indicator scores -> domain scores, overall score and
the good-practice verdict. One implementation, for curators' scoring of practices
(kb.curation.quality) and practitioners' own assessment table (kb.assessment.quality_check).

Each indicator is scored met (1), partly (0.5), not met (0) or unknown (left out). A domain's
score is the mean of its known indicators in percent, if at least half of its indicators are
known; otherwise the domain is not scored. The overall score is the mean of the five domain
scores. A practice is a *good practice* when every domain is scored and reaches
KB_QUALITY_DOMAIN_MIN (default 50 %) and the overall score reaches KB_QUALITY_OVERALL_MIN
(default 70 %).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.core.config import setting
from kb.core.models import GuidingQuestion, QualityDomain

VALUES = {"met": 1.0, "partly": 0.5, "not_met": 0.0, "unknown": None}
NUMBERS = {1: "met", 0.5: "partly", 0: "not_met", None: "unknown"}  # the API's numbers


@dataclass
class QualityResult:
    domains: dict[int, float | None]
    overall: float | None
    good_practice: bool
    domain_min: float = 50
    overall_min: float = 70

    def weakest(self, count: int = 2) -> list[int]:
        """The domains most in need of work: those below the domain minimum or not scored
        first (lowest first), then the lowest others; at most ``count``."""
        def order(domain: int) -> tuple:
            value = self.domains[domain]
            return (value is not None and value >= self.domain_min,
                    -1.0 if value is None else value, domain)
        ranked = sorted(self.domains, key=order)
        return [d for d in ranked if self.domains[d] is None or self.domains[d] < 100][:count]


def domains_with_indicators(session: Session) -> list[QualityDomain]:
    return list(session.scalars(select(QualityDomain).order_by(QualityDomain.id).options(
        selectinload(QualityDomain.questions).selectinload(GuidingQuestion.indicators))))


def indicator_ids(domains: list[QualityDomain]) -> list[str]:
    return [i.id for d in domains for q in d.questions for i in q.indicators]


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
    return QualityResult(result, overall, good, domain_min, overall_min)
