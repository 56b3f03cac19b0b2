"""The JSON API of the assessment table and of self-assessments (see /api/openapi.json)."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import force_locale
from pydantic import BaseModel, ValidationError

from kb.assessment import quality_check as table
from kb.assessment.assess import AssessmentError
from kb.core.quality import domains_with_indicators
from kb.web import quality_json
from kb.web.api import bp, openapi
from kb.web.errors import BadParameter
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
        where = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("literal[", "none")))
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
        raise BadParameter(str(exc), exc.field) from None
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
