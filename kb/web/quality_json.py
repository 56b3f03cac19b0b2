"""The assessment table's JSON: one shape for POST /api/quality-check and the page's JSON twin,
and the verdict in words (the thresholds explained), in the UI language."""
from __future__ import annotations

from typing import Annotated, Literal

from flask import url_for
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kb.assessment import quality_check
from kb.core.quality import VALUES
from kb.web.serialize import Shape

Score = Literal[1, 0.5, 0] | None


class QualityCheckRequest(BaseModel):
    """Scores of one's own practice on the quality indicators (GET /api/criteria lists them)."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, Score] = Field(description=(
        "Indicator ID -> 1 (met), 0.5 (partly), 0 (not met) or null (unknown); an indicator "
        "left out is unknown."))
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    organisation: Annotated[str, StringConstraints(max_length=200)] = ""
    lang: Literal["lv", "en"] = Field("lv", description="The language of the verdict.")
    save: bool = Field(False, description="Keep it under an unguessable link (answer 201).")


class DomainScore(Shape):
    domain: int
    name: str
    name_en: str | None
    score: float | None = Field(description="Percent; null when fewer than half of its "
                                            "indicators are known.")
    known: int = Field(description="Indicators scored (not unknown).")
    indicators: int
    meets_minimum: bool


class GuidanceItem(Shape):
    id: str = Field(description="A general checklist item (handbook section 6).")
    text: str
    text_en: str | None


class MatchedPractice(Shape):
    id: str
    title: str
    title_en: str | None
    activities: list[str] = Field(description="What the domain asks that the practice does.")
    needs: list[str]
    success_factor: str | None


class WeakDomain(Shape):
    domain: int
    name: str
    name_en: str | None
    score: float | None
    open_indicators: list[str] = Field(description="Indicators not met (partly, not met, "
                                                   "unknown).")
    guidance: list[GuidanceItem]
    practices: list[MatchedPractice]


class Shortfall(Shape):
    rule: Literal["unscored", "below", "overall_below"]
    domain: int | None
    score: float | None


class QualityCheckResult(Shape):
    """Domain scores, overall score and the good-practice verdict by the rule curators use."""

    scores: dict[str, Score]
    domains: list[DomainScore]
    overall: float | None
    good_practice: bool
    domain_min: float
    overall_min: float
    verdict: str = Field(description="The verdict and the thresholds, in words.")
    shortfalls: list[Shortfall]
    weakest: list[WeakDomain]
    token: str | None = Field(description="The saved scoring's secret token, when saved.")
    url: str | None



def _number(name: str):
    value = VALUES[name]
    return None if value is None else (1 if value == 1 else 0 if value == 0 else 0.5)


def verdict(evaluation: quality_check.Evaluation, names: dict[int, str]) -> str:
    """The good-practice reading and its thresholds, in words."""
    r = evaluation.result
    rule = _("A good practice scores at least %(d)s %% in every domain and at least %(o)s %% "
             "overall (the mean of the five domains); a domain is scored when at least half of "
             "its indicators are known.", d=_fmt(r.domain_min), o=_fmt(r.overall_min))
    if r.good_practice:
        head = _("Good practice: every domain reaches %(d)s %% and the overall score, %(s)s %%, "
                 "reaches %(o)s %%.", d=_fmt(r.domain_min), s=_fmt(r.overall),
                 o=_fmt(r.overall_min))
        return f"{head} {rule}"
    reasons = []
    for kind, domain, value in quality_check.shortfalls(r):
        if kind == "unscored":
            reasons.append(_("domain %(n)s (%(name)s) has fewer than half of its indicators "
                             "known", n=domain, name=names[domain]))
        elif kind == "below":
            reasons.append(_("domain %(n)s (%(name)s) scores %(s)s %%, below %(d)s %%",
                             n=domain, name=names[domain], s=_fmt(value), d=_fmt(r.domain_min)))
        else:
            reasons.append(_("the overall score is %(s)s %%, below %(o)s %%", s=_fmt(value),
                             o=_fmt(r.overall_min)))
    head = _("Not yet a good practice: %(reasons)s.", reasons="; ".join(reasons))
    return f"{head} {rule}"


def _fmt(value) -> str:
    return "—" if value is None else (f"{value:g}")


def quality_check_json(evaluation: quality_check.Evaluation, domains, lang: str,
                       token: str | None = None) -> dict:
    """The result of scoring ``evaluation.values`` on ``domains``."""
    en = lang == "en"
    names = {d.id: (d.name_en or d.name) if en else d.name for d in domains}
    values, r = evaluation.values, evaluation.result
    rows = []
    for d in domains:
        ids = [i.id for q in d.questions for i in q.indicators]
        known = sum(1 for i in ids if VALUES.get(values.get(i, "unknown")) is not None)
        value = r.domains[d.id]
        rows.append({"domain": d.id, "name": d.name, "name_en": d.name_en or None,
                     "score": value, "known": known, "indicators": len(ids),
                     "meets_minimum": value is not None and value >= r.domain_min})
    weakest = [{
        "domain": w.domain.id, "name": w.domain.name, "name_en": w.domain.name_en or None,
        "score": w.score, "open_indicators": w.open_indicators,
        "guidance": [{"id": g.id, "text": g.text, "text_en": g.text_en or None}
                     for g in w.guidance],
        "practices": [{"id": p.id, "title": p.title, "title_en": p.title_en or None,
                       "activities": p.activities, "needs": p.needs,
                       "success_factor": p.success_factor} for p in w.practices],
    } for w in evaluation.weakest]
    return QualityCheckResult.model_validate({
        "scores": {i.id: _number(values.get(i.id, "unknown"))
                   for d in domains for q in d.questions for i in q.indicators},
        "domains": rows, "overall": r.overall, "good_practice": r.good_practice,
        "domain_min": r.domain_min, "overall_min": r.overall_min,
        "verdict": verdict(evaluation, names),
        "shortfalls": [{"rule": k, "domain": d, "score": s}
                       for k, d, s in quality_check.shortfalls(r)],
        "weakest": weakest, "token": token,
        "url": url_for("assess.quality_check_saved", token=token, _external=True)
        if token else None,
    }).jsonable()
