"""The self-assessment: checklists with notes per key area, a summary, recommended practices."""
from __future__ import annotations

import json

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from pydantic import ValidationError

from kb.assessment import assess, record, rounds, teams
from kb.core.models import Area
from kb.web.assess import bp
from kb.web.assessment_json import AssessmentCreate, record_json, summary_data
from kb.core.messages import N_
from kb.web.errors import BadParameter, NotFound, shown, wants_json
from kb.web.services import db

IMPORT_LIMIT = 512 * 1024  # a record of 93 answers and 7 notes of 5,000 characters is ~60 kB


def get_assessment(token: str):
    """The assessment behind ``token``, or 404 saying nothing about any other assessment."""
    found = assess.get_by_token(db(), token)
    if found is None:
        raise NotFound(N_("No assessment at this address. Check the link you saved."), "token")
    return found


@bp.get("/assess")
def start():
    """Start a self-assessment (no account needed)."""
    return render_template("assess/start.html", types=assess.ORGANISATION_TYPES)


@bp.post("/assess")
def create():
    """Create an assessment and go to its first page."""
    try:
        assessment = assess.create(db(), request.form.get("organisation", ""),
                                   request.form.get("organisation_type", ""))
    except assess.AssessmentError as exc:
        raise BadParameter.of(exc) from None
    db().commit()
    return redirect(url_for("assess.page", token=assessment.token, page="1"), code=303)


def _page_context(assessment, page: str, note: str | None = None, error: str | None = None):
    checklists = assess.page_checklists(db(), page)
    area = db().get(Area, int(page)) if page != "general" else None
    index = assess.PAGES.index(page)
    return dict(assessment=assessment, page=page, area=area, checklists=checklists,
                answers=assess.answers_of(assessment),
                note=assess.note_of(assessment, page) if note is None else note,
                saved_note=assess.note_of(assessment, page), note_limit=assess.NOTE_LIMIT,
                steps=assess.PAGES, next_page=assess.PAGES[index + 1] if index + 1 < len(assess.PAGES) else None,
                error=error)


@bp.get("/assess/<token>/<page>")
def page(token: str, page: str):
    """One page of the assessment: an area's checklist(s), or the general one, with notes."""
    assessment = get_assessment(token)
    if page not in assess.PAGES:
        raise NotFound(N_("There is no page %(page)r; the pages are 1-6 and general."), "page",
                       values={"page": page[:20]})
    return render_template("assess/page.html", **_page_context(assessment, page))


@bp.post("/assess/<token>/<page>")
def save(token: str, page: str):
    """Save a page; go on to the next page, stay, or see the summary."""
    assessment = get_assessment(token)
    if page not in assess.PAGES:
        raise NotFound(N_("There is no page %(page)r; the pages are 1-6 and general."), "page",
                       values={"page": page[:20]})
    form = request.form
    answers = {k[5:]: v for k, v in form.items() if k.startswith("item-")}
    original = {k[5:]: v for k, v in form.items() if k.startswith("orig-") and v}
    try:
        result = assess.save_page(db(), assessment, page, answers, original,
                                  form.get("notes", ""), form.get("notes_orig", ""))
    except assess.AssessmentError as exc:
        db().rollback()
        raise BadParameter.of(exc) from None
    db().commit()
    if result.conflicts:
        flash(ngettext("%(num)d answer had been changed in another window meanwhile; your "
                       "answer from this page was saved over it.",
                       "%(num)d answers had been changed in another window meanwhile; your "
                       "answers from this page were saved over them.", len(result.conflicts)),
              "warning")
    if result.note_merged:
        flash(_("The notes had been changed in another window meanwhile; both versions are "
                "kept, one after the other."), "warning")
    if result.note_error:
        context = _page_context(assessment, page, note=form.get("notes", ""),
                                error=_("The notes are too long: %(n)d characters, at most "
                                        "%(limit)d. They were not saved; your answers were. "
                                        "Shorten the notes and save again.",
                                        n=len(form.get("notes", "")), limit=assess.NOTE_LIMIT))
        return render_template("assess/page.html", **context), 400
    flash(_("Saved."), "info")
    go = form.get("go", "next")
    if go == "summary" or (go == "next" and page == assess.PAGES[-1]):
        return redirect(url_for("assess.summary", token=token), code=303)
    if go == "next":
        following = assess.PAGES[assess.PAGES.index(page) + 1]
        return redirect(url_for("assess.page", token=token, page=following), code=303)
    return redirect(url_for("assess.page", token=token, page=page), code=303)


@bp.get("/assess/<token>/summary")
def summary(token: str):
    """The summary: per area met/applicable, the handbook's reading, notes, unanswered items,
    recommendations, and the comparison with the round before."""
    assessment = get_assessment(token)
    data = summary_data(assessment)
    if wants_json():
        return jsonify(data)
    return render_template("assess/summary.html", assessment=assessment, shared_view=False,
                           **data)


@bp.get("/assess/shared/<share_token>")
def shared(share_token: str):
    """A round's summary, read-only, for partners and refugees (through its share link)."""
    assessment = teams.by_share_token(db(), share_token)
    if assessment is None:
        raise NotFound(N_("Nothing is shared at this address: the link is wrong or its owner "
                          "stopped sharing it."), "token")
    data = summary_data(assessment, shared=True)
    if wants_json():
        return jsonify(data)
    return render_template("assess/summary.html", assessment=None, shared_view=True, **data)


@bp.post("/assess/<token>/share")
def share(token: str):
    """Make (or keep) a read-only link to this round's summary."""
    assessment = get_assessment(token)
    teams.share(db(), assessment)
    db().commit()
    flash(_("Anyone with the read-only link can see this summary, but change nothing. Stop "
            "sharing at any time."), "info")
    return redirect(url_for("assess.summary", token=token) + "#share", code=303)


@bp.post("/assess/<token>/share/revoke")
def revoke(token: str):
    """Stop sharing: the read-only link opens nothing any more."""
    assessment = get_assessment(token)
    teams.revoke(db(), assessment)
    db().commit()
    flash(_("The read-only link no longer works."), "info")
    return redirect(url_for("assess.summary", token=token) + "#share", code=303)


@bp.post("/assess/<token>/team")
def invite(token: str):
    """Invite a team member: they answer on a link of their own; the summary counts them."""
    assessment = get_assessment(token)
    try:
        member = teams.invite(db(), assessment, request.form.get("name", ""))
    except assess.AssessmentError as exc:
        db().rollback()
        raise BadParameter.of(exc) from None
    db().commit()
    flash(_("%(name)s is invited: send them their own link, shown under the team.",
            name=member.member_name), "info")
    return redirect(url_for("assess.summary", token=token) + "#team", code=303)


@bp.get("/assess/<token>/summary.json")
def download(token: str):
    """The complete record as a JSON file: every answer and note; import it to restore it."""
    data = record_json(get_assessment(token))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="kb-self-assessment.json"'})


@bp.post("/assess/<token>/follow-up")
def follow_up(token: str):
    """Start the next round: a new assessment dated today with this round's answers."""
    assessment = get_assessment(token)
    try:
        new = rounds.follow_up(db(), assessment)
    except assess.AssessmentError as exc:
        raise BadParameter.of(exc) from None
    db().commit()
    flash(_("Round %(n)d started with the answers of round %(m)d: change what is different "
            "now. It has a link of its own.", n=new.round, m=assessment.round), "info")
    return redirect(url_for("assess.page", token=new.token, page="1"), code=303)


@bp.route("/assess/import", methods=["GET", "POST"])
def import_record():
    """Restore an assessment from its downloaded JSON record, under a new link."""
    if request.method == "GET":
        return render_template("assess/import.html")
    upload = request.files.get("record")
    error = None
    if upload is None or not upload.filename:
        error = _("Choose the JSON file you downloaded from a summary.")
    else:
        raw = upload.read(IMPORT_LIMIT + 1)
        try:
            data = json.loads(raw.decode("utf-8")) if len(raw) <= IMPORT_LIMIT else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if not isinstance(data, dict):
            error = _("This file is not a kb self-assessment record (JSON downloaded from a "
                      "summary).")
        else:
            try:
                wanted = AssessmentCreate.model_validate(
                    {k: data.get(k) for k in ("organisation", "organisation_type", "answers",
                                              "notes") if data.get(k) is not None})
                assessment = record.create(db(), wanted.organisation, wanted.organisation_type,
                                           wanted.answers, wanted.notes)
            except ValidationError as exc:
                where = ".".join(str(p) for p in exc.errors()[0]["loc"])
                error = _("The record cannot be imported: %(where)s is not valid.", where=where)
            except assess.AssessmentError as exc:
                error = _("The record cannot be imported: %(why)s", why=shown(exc))
    if error is not None:
        db().rollback()
        return render_template("assess/import.html", error=error), 400
    db().commit()
    flash(_("Imported. This is a new assessment with a link of its own: bookmark it."), "info")
    return redirect(url_for("assess.summary", token=assessment.token), code=303)
