"""The JSON API of the assessment table and of self-assessments (see /api/openapi.json)."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import force_locale
from pydantic import BaseModel, ValidationError

from kb.assessment import assess, record, rounds, teams
from kb.assessment import quality_check as table
from kb.assessment.assess import AssessmentError
from kb.core.quality import domains_with_indicators
from kb.web import assessment_json, quality_json
from kb.web.api import bp, openapi
from kb.web.errors import BadParameter, NotFound
from kb.web.services import db


def body_as(model: type[BaseModel], example: str):
    """The request's JSON body as ``model``, or a 400 naming the field at fault."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadParameter(f"send a JSON object: {example}", "body")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]
                         if not str(p).startswith(("literal[", "none", "[key]", "constrained-")))
        param = where or "body"
        if error["type"] == "extra_forbidden":
            message = f"unknown field {param[:60]!r}"
        elif param.startswith("scores."):
            message = f"score of {param[7:]} must be 1, 0.5, 0 or null"
        else:
            message = f"{param}: {error['msg']}"
        raise BadParameter(message, param) from None


@bp.post("/quality-check")
def quality_check():
    """Score a practice on the quality indicators: domain scores, overall score, the
    good-practice verdict and the weakest domains, by the rule curators use."""
    wanted = body_as(quality_json.QualityCheckRequest,
                     '{"scores": {"1.1.1": 1, "1.1.2": 0.5, "1.1.3": 0, "1.1.4": null}}')
    domains = domains_with_indicators(db())
    try:
        values = table.parse_scores(wanted.scores, domains)
        check = (table.create(db(), values, wanted.title, wanted.organisation)
                 if wanted.save else None)
    except AssessmentError as exc:
        raise BadParameter.of(exc) from None
    evaluation = table.evaluate(db(), values, domains)
    with force_locale(wanted.lang):
        data = quality_json.quality_check_json(evaluation, domains, wanted.lang,
                                               check.token if check else None)
    if check is not None:
        db().commit()
        return jsonify(data), 201
    return jsonify(data)


openapi.OPERATIONS.update({
    "api.quality_check": openapi.Operation(quality_json.QualityCheckResult, (400,),
                                           body=quality_json.QualityCheckRequest,
                                           answered=(201,)),
})


# --- self-assessments ----------------------------------------------------------------------------

def get_assessment(token: str):
    """The assessment behind ``token``, or 404 saying nothing about any other."""
    found = assess.get_by_token(db(), token)
    if found is None:
        raise NotFound("no assessment with this token", "token")
    return found


@bp.post("/assessments")
def assessments_create():
    """Create a self-assessment (answers, notes, organisation); 201 with its complete record,
    token and links."""
    wanted = body_as(assessment_json.AssessmentCreate,
                     '{"organisation": "...", "answers": {"area-1-01": "met"}, '
                     '"notes": {"1": "..."}}')
    try:
        created = record.create(db(), wanted.organisation, wanted.organisation_type,
                                wanted.answers, wanted.notes)
    except AssessmentError as exc:
        raise BadParameter.of(exc) from None
    db().commit()
    return jsonify(assessment_json.record_json(created)), 201


@bp.get("/assessments/<token>")
def assessment(token: str):
    """The complete record of a self-assessment: every answer (met, unmet, na, unanswered),
    the notes, dates, rounds, and its summary."""
    return jsonify(assessment_json.record_json(get_assessment(token)))


@bp.patch("/assessments/<token>")
def assessment_patch(token: str):
    """Change answers, notes or the organisation, with the version they were made on; 409
    with what changed when the assessment changed since."""
    found = get_assessment(token)
    wanted = body_as(assessment_json.AssessmentPatch,
                     '{"version": 3, "answers": {"area-1-01": "unmet"}}')
    fields = {k: v for k in ("organisation", "organisation_type")
              if (v := getattr(wanted, k)) is not None}
    try:
        record.patch(db(), found, wanted.version, wanted.answers, wanted.notes, fields)
    except record.StaleVersion as exc:
        db().rollback()
        return jsonify(assessment_json.conflict_json(exc)), 409
    except AssessmentError as exc:
        db().rollback()
        raise BadParameter.of(exc) from None
    db().commit()
    return jsonify(assessment_json.record_json(found))


@bp.post("/assessments/<token>/follow-up")
def assessment_follow_up(token: str):
    """Start the next round: a new assessment linked to this one, with its answers copied;
    201 with the new round's record."""
    found = get_assessment(token)
    try:
        new = rounds.follow_up(db(), found)
    except AssessmentError as exc:
        raise BadParameter.of(exc) from None
    db().commit()
    return jsonify(assessment_json.record_json(new)), 201


@bp.post("/assessments/<token>/share")
def assessment_share(token: str):
    """Make (or keep) the read-only share link of a round's summary; 201 with its URL."""
    found = get_assessment(token)
    share_token = teams.share(db(), found)
    db().commit()
    return jsonify({"url": url_for("assess.shared", share_token=share_token,
                                   _external=True)}), 201


@bp.delete("/assessments/<token>/share")
def assessment_unshare(token: str):
    """Revoke the read-only share link: it opens nothing any more."""
    teams.revoke(db(), get_assessment(token))
    db().commit()
    return jsonify({"url": None})


@bp.post("/assessments/<token>/members")
def assessment_invite(token: str):
    """Invite a member to a team round: 201 with the member's own link; the round's summary
    counts their answers."""
    found = get_assessment(token)
    wanted = body_as(assessment_json.MemberRequest, '{"name": "Partner NGO"}')
    try:
        member = teams.invite(db(), found, wanted.name)
    except AssessmentError as exc:
        db().rollback()
        raise BadParameter.of(exc) from None
    db().commit()
    return jsonify({"name": member.member_name, "token": member.token,
                    "url": url_for("assess.page", token=member.token, page="1",
                                   _external=True), "answered": len(member.answers)}), 201


def _vocabularies(schemas: dict) -> None:
    """Answers are keyed by the checklist items there are, scores by the indicators."""
    items = [i.id for i in record.all_items(db())]
    indicators = [i.id for d in domains_with_indicators(db()) for q in d.questions
                  for i in q.indicators]
    for name, field, keys in (("AssessmentCreate", "answers", items),
                              ("AssessmentPatch", "answers", items),
                              ("QualityCheckRequest", "scores", indicators)):
        prop = schemas.get(name, {}).get("properties", {}).get(field)
        if prop is not None:
            prop["propertyNames"] = {"enum": keys}


openapi.VOCABULARIES.append(_vocabularies)
openapi.PATH["token"] = ("token", "The assessment's secret token.")
openapi.OPERATIONS.update({
    "api.assessments_create": openapi.Operation(
        assessment_json.AssessmentRecord, (400,), body=assessment_json.AssessmentCreate, ok=201),
    "api.assessment": openapi.Operation(assessment_json.AssessmentRecord, (404,)),
    "api.assessment_patch": openapi.Operation(
        assessment_json.AssessmentRecord, (400, 404), body=assessment_json.AssessmentPatch,
        shaped=((409, assessment_json.Conflict),)),
    "api.assessment_follow_up": openapi.Operation(
        assessment_json.AssessmentRecord, (400, 404), ok=201),
    "api.assessment_share": openapi.Operation(assessment_json.Share, (404,), ok=201),
    "api.assessment_unshare": openapi.Operation(assessment_json.Share, (404,)),
    "api.assessment_invite": openapi.Operation(
        assessment_json.TeamMember, (400, 404), body=assessment_json.MemberRequest, ok=201),
})
