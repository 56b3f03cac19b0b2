"""The self-assessment: checklists with notes per key area, a summary, recommended practices."""
from __future__ import annotations

import json

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.assessment import assess
from kb.core.models import Area
from kb.assessment.recommend import per_item
from kb.web.assess import bp
from kb.web.errors import BadParameter, NotFound, wants_json
from kb.web.serialize import why_json
from kb.web.services import db, search_reader


def get_assessment(token: str):
    """The assessment behind ``token``, or 404 saying nothing about any other assessment."""
    found = assess.get_by_token(db(), token)
    if found is None:
        raise NotFound("No assessment at this address. Check the link you saved.", "token")
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
        raise BadParameter(str(exc), exc.field) from None
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
        raise NotFound(f"no page {page!r}; pages are 1-6 and general", "page")
    return render_template("assess/page.html", **_page_context(assessment, page))


@bp.post("/assess/<token>/<page>")
def save(token: str, page: str):
    """Save a page; go on to the next page, stay, or see the summary."""
    assessment = get_assessment(token)
    if page not in assess.PAGES:
        raise NotFound(f"no page {page!r}; pages are 1-6 and general", "page")
    form = request.form
    answers = {k[5:]: v for k, v in form.items() if k.startswith("item-")}
    original = {k[5:]: v for k, v in form.items() if k.startswith("orig-") and v}
    try:
        result = assess.save_page(db(), assessment, page, answers, original,
                                  form.get("notes", ""), form.get("notes_orig", ""))
    except assess.AssessmentError as exc:
        db().rollback()
        raise BadParameter(str(exc), exc.field) from None
    db().commit()
    if result.conflicts:
        flash(_("%(n)d answers had been changed in another window meanwhile; your answers "
                "from this page were saved over them.", n=len(result.conflicts)), "warning")
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


def summary_data(assessment) -> dict:
    pages = assess.summarize(db(), assessment)
    unmet = [i.id for p in pages for i in p.unmet]
    recommendations = {}
    if unmet:
        recommendations = per_item(search_reader(), db(), unmet, top=3)
    areas = {a.id: a for a in db().scalars(select(Area).options(selectinload(Area.references)))}
    return {
        "organisation": assessment.organisation or None,
        "organisation_type": assessment.organisation_type or None,
        "updated_at": assessment.updated_at.isoformat() if assessment.updated_at else None,
        "pages": [{
            "page": p.page, "title": p.title, "title_en": p.title_en or None, "met": p.met,
            "applicable": p.applicable,
            "not_applicable": p.not_applicable, "unanswered": p.unanswered,
            "reading": p.reading, "percent": p.percent, "notes": p.note,
            "unmet": [{"id": i.id, "text": i.text, "text_en": i.text_en or None, "practices": [
                {"id": r.id, "title": r.title, "title_en": r.title_en or None,
                 "country": r.countries, "area": r.area, "score": r.score,
                 "why": why_json(r.reasons)}
                for r in recommendations.get(i.id, [])]} for i in p.unmet],
            "references": [{"id": r.id, "title": r.title, "year": r.year,
                            "url": r.urls[0] if r.urls else None}
                           for r in (areas[int(p.page)].references if p.page != "general" else [])],
        } for p in pages],
    }


@bp.get("/assess/<token>/summary")
def summary(token: str):
    """The summary: per area met/applicable, the handbook's reading, notes, recommendations."""
    assessment = get_assessment(token)
    data = summary_data(assessment)
    if wants_json():
        return jsonify(data)
    return render_template("assess/summary.html", assessment=assessment, **data)


@bp.get("/assess/<token>/summary.json")
def download(token: str):
    """The summary as a JSON file to keep."""
    data = summary_data(get_assessment(token))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="kb-self-assessment.json"'})
