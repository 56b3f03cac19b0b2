"""The assessment table (/quality-check): score one's own practice on the quality criteria,
no account needed; saved under an unguessable link, with a JSON twin and a print view."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kb.assessment import quality_check
from kb.assessment.assess import AssessmentError
from kb.core.quality import VALUES, domains_with_indicators
from kb.web.assess import bp
from kb.core.messages import N_
from kb.web.errors import BadParameter, NotFound, wants_json
from kb.web.quality_json import quality_check_json
from kb.web.services import db


def get_quality_check(token: str):
    """The saved scoring behind ``token``, or 404 saying nothing about any other."""
    found = quality_check.get_by_token(db(), token)
    if found is None:
        raise NotFound(N_("No assessment table at this address. Check the link you saved."),
                       "token")
    return found


def _form_values(domains) -> dict[str, str]:
    values = {}
    for d in domains:
        for q in d.questions:
            for i in q.indicators:
                value = request.form.get(f"ind-{i.id}", "unknown")
                if value not in VALUES:
                    raise BadParameter(_("Choose met, partly, not met or unknown for indicator "
                                         "%(id)s.", id=i.id), f"ind-{i.id}")
                values[i.id] = value
    return values


def _render(domains, values: dict[str, str], check=None):
    evaluation = quality_check.evaluate(db(), values, domains)
    data = quality_check_json(evaluation, domains, str(get_locale()),
                              check.token if check else None)
    if wants_json():
        return jsonify(data)
    return render_template("assess/quality_check.html", domains=domains, values=values,
                           check=check, data=data)


@bp.get("/quality-check")
def quality_check_start():
    """The assessment table: score a practice on the 34 quality indicators (no account)."""
    domains = domains_with_indicators(db())
    values = {}
    if request.args:  # a shared "what if" link: ?ind-1.1.1=met ...
        values = {k[4:]: v for k, v in request.args.items()
                  if k.startswith("ind-") and v in VALUES}
    return _render(domains, values)


@bp.post("/quality-check")
def quality_check_create():
    """Save the scores under a new private link and show the result."""
    domains = domains_with_indicators(db())
    values = _form_values(domains)
    try:
        check = quality_check.create(db(), values, request.form.get("title", ""),
                                     request.form.get("organisation", ""))
    except AssessmentError as exc:
        raise BadParameter.of(exc) from None
    db().commit()
    flash(_("Saved. Bookmark this page: its link is the only way back to your scores."), "info")
    return redirect(url_for("assess.quality_check_saved", token=check.token), code=303)


@bp.get("/quality-check/<token>")
def quality_check_saved(token: str):
    """A saved assessment table: its scores, the verdict and the weakest domains."""
    check = get_quality_check(token)
    return _render(domains_with_indicators(db()), dict(check.scores), check)


@bp.post("/quality-check/<token>")
def quality_check_update(token: str):
    """Change a saved assessment table's scores."""
    check = get_quality_check(token)
    domains = domains_with_indicators(db())
    values = _form_values(domains)
    title, organisation = (request.form.get(k, "").strip() for k in ("title", "organisation"))
    if len(title) > quality_check.TITLE_LIMIT or len(organisation) > quality_check.TITLE_LIMIT:
        raise BadParameter(_("The title and the organisation may have at most %(n)d "
                             "characters.", n=quality_check.TITLE_LIMIT), "title")
    check.scores = {k: v for k, v in values.items() if v != "unknown"}
    check.title, check.organisation = title, organisation
    check.version += 1
    db().commit()
    flash(_("Saved."), "info")
    return redirect(url_for("assess.quality_check_saved", token=token), code=303)
