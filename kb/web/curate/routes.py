"""Curators: log in, submit, review, score and publish practices; the public suggestion form."""
from __future__ import annotations

import time
from datetime import timedelta

from babel import Locale
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from kb.curation import accounts, quality, review
from kb.core.config import setting
from kb.core.vocabulary import COUNTRIES
from kb.core.models import PRACTICE_LOADS, PUBLISHED, Activity, Area, Curator, Need, Practice, SuccessFactor
from kb.web.curate import bp
from kb.web.curate.forms import LoginForm, PracticeForm, ReviewForm, SuggestForm, choice
from kb.web.errors import KbHTTPError, NotFound
from kb.web.helpers import localized
from kb.web.serialize import practice_json
from kb.web.services import db, search_service

SUGGEST_WINDOW = timedelta(hours=1)


class TooManyRequests(KbHTTPError):
    status = 429


def _client_address() -> str:
    return request.remote_addr or "unknown"


# -- login -----------------------------------------------------------------------------------

@bp.route("/curate/login", methods=["GET", "POST"])
def login():
    """Log in as a curator; repeated wrong passwords are throttled."""
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        keys = [f"login:email:{email}", f"login:ip:{_client_address()}"]
        limit = setting("KB_LOGIN_ATTEMPTS")
        too_many = _("Too many failed logins. Wait 15 minutes and try again.")
        if any(accounts.count(db(), k, accounts.LOGIN_WINDOW) >= limit for k in keys):
            raise TooManyRequests(too_many)
        # Count the attempt before the password is checked, and decide on the counts the
        # database returns: of many attempts at once, at most `limit` check a password.
        if max([accounts.hit(db(), k, accounts.LOGIN_WINDOW) for k in keys]) > limit:
            db().rollback()  # a refused attempt is not counted
            raise TooManyRequests(too_many)
        db().commit()  # counted for everyone while the password is checked
        curator = accounts.authenticate(db(), email, form.password.data)
        if curator is None:
            flash(_("Wrong email or password."), "error")
            return render_template("curate/login.html", form=form), 401
        for key in keys:
            accounts.clear(db(), key)
        db().commit()
        login_user(curator)
        target = request.args.get("next", "")
        if not target.startswith("/curate") or target.startswith("//"):
            target = url_for("curate.queue")
        return redirect(target, code=303)
    return render_template("curate/login.html", form=form)


@bp.post("/curate/logout")
@login_required
def logout():
    """Log out."""
    logout_user()
    return redirect(url_for("main.home"), code=303)


# -- the queue ---------------------------------------------------------------------------------

def _queue_data() -> dict:
    rows = db().scalars(select(Practice).where(Practice.source == "curator")
                        .options(*PRACTICE_LOADS).order_by(Practice.updated_at.desc()))
    groups = {"pending": [], "changes_requested": [], "published": [], "rejected": []}
    for p in rows:
        groups.setdefault(p.status, []).append(
            {**practice_json(p, full=False), "status": p.status,
             "submitted_via": p.submitted_via, "submitted_by": p.submitted_by,
             "review_reason": p.review_reason or None})
    return groups


@bp.get("/curate")
@login_required
def queue():
    """The review queue: pending, changes requested, published, rejected."""
    return render_template("curate/queue.html", groups=_queue_data())


@bp.get("/api/curate/queue")
@login_required
def api_queue():
    """The review queue as JSON (curators only: 401 otherwise)."""
    return jsonify(_queue_data())


# -- submitting and editing ----------------------------------------------------------------------

def _fill_choices(form: PracticeForm) -> None:
    names = Locale.parse(str(get_locale())).territories
    form.countries.choices = [choice(c, name) for c, name in sorted(
        ((c, names.get(c, c)) for c in COUNTRIES), key=lambda pair: pair[1])]
    areas = db().scalars(select(Area).order_by(Area.id)).all()
    form.area.choices = [choice("", "—")] + [choice(str(a.id), f"{a.id}. {localized(a, 'title')}")
                                             for a in areas]
    factors = db().scalars(select(SuccessFactor).order_by(SuccessFactor.area_id,
                                                          SuccessFactor.position)).all()
    form.success_factor.choices = [choice("", "—")] + [choice(f.id, localized(f, "name"))
                                                       for f in factors]
    form.factor_groups = {a.id: [(f.id, localized(f, "name")) for f in factors if f.area_id == a.id]
                          for a in areas}
    english = str(get_locale()) == "en"
    form.needs.choices = [choice(n.code, n.label_en if english else n.label_lv)
                          for n in db().scalars(select(Need).order_by(Need.position))]
    form.activities.choices = [choice(a.code, a.label_en if english else a.label_lv)
                               for a in db().scalars(select(Activity).order_by(Activity.position))]


def _raw(form: PracticeForm) -> dict:
    return {"title": form.title.data, "title_en": form.title_en.data,
            "organisation": form.organisation.data, "city": form.city.data,
            "countries": form.countries.data or [], "area": form.area.data,
            "success_factor": form.success_factor.data, "text": form.text.data,
            "summary_en": form.summary_en.data, "needs": form.needs.data or [],
            "activities": form.activities.data or [],
            "urls": (form.urls.data or "").splitlines(), "contact": form.contact.data,
            "source_note": form.source_note.data}


def _show_errors(form: PracticeForm, error: review.ReviewError) -> None:
    fields = {"area": form.area, "success_factor": form.success_factor}
    for name, message in error.errors.items():
        field = fields.get(name) or getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]


@bp.route("/curate/new", methods=["GET", "POST"])
@login_required
def new():
    """Submit a practice to the review queue."""
    form = PracticeForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            practice = review.submit(db(), _raw(form), current_user, via="curator")
        except review.ReviewError as exc:
            _show_errors(form, exc)
        else:
            db().commit()
            flash(_("Submitted for review."), "info")
            return redirect(url_for("curate.practice", practice_id=practice.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("curate/practice_form.html", form=form, mode="new"), status


@bp.route("/suggest", methods=["GET", "POST"])
def suggest():
    """Suggest a practice (anyone): it lands in the curators' review queue."""
    form = SuggestForm()
    _fill_choices(form)
    if form.validate_on_submit():
        if form.website.data:  # a bot filled in the hidden field: say thanks, keep nothing
            return render_template("curate/thanks.html")
        key = f"suggest:ip:{_client_address()}"
        limit = setting("KB_SUGGESTIONS_PER_HOUR")
        too_many = _("Too many suggestions from this address. Please try again in an hour.")
        if accounts.count(db(), key, SUGGEST_WINDOW) >= limit:
            raise TooManyRequests(too_many)
        try:
            review.submit(db(), _raw(form), None, via="public")
        except review.ReviewError as exc:
            _show_errors(form, exc)
        else:
            # The count the database returns decides: of many suggestions sent at once,
            # exactly `limit` are kept.
            if accounts.hit(db(), key, SUGGEST_WINDOW) > limit:
                db().rollback()
                raise TooManyRequests(too_many)
            db().commit()
            return render_template("curate/thanks.html")
    status = 400 if request.method == "POST" else 200
    return render_template("curate/practice_form.html", form=form, mode="suggest"), status


def get_practice(practice_id: str) -> Practice:
    practice = db().get(Practice, practice_id)
    if practice is None:
        raise NotFound(f"no practice with id {practice_id!r}", "id")
    return practice


def _form_from(practice: Practice) -> PracticeForm:
    form = PracticeForm(data={
        "title": practice.title, "title_en": practice.title_en,
        "organisation": practice.organisation, "city": practice.city,
        "countries": practice.country_codes, "area": str(practice.area_id),
        "success_factor": practice.success_factor_id or "", "text": practice.text,
        "summary_en": practice.summary_en, "needs": practice.need_codes,
        "activities": practice.activity_codes,
        "urls": "\n".join(practice.urls or []), "contact": practice.contact,
        "source_note": practice.source_note})
    return form


@bp.route("/curate/practices/<practice_id>/edit", methods=["GET", "POST"])
@login_required
def edit(practice_id: str):
    """Edit a practice (reviewers can edit any); the change log keeps before and after."""
    practice = get_practice(practice_id)
    form = PracticeForm() if request.method == "POST" else _form_from(practice)
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            review.edit(db(), practice, _raw(form), current_user)
            if practice.status == PUBLISHED:
                review.sync_search(search_service(), db(), practice)
        except review.ReviewError as exc:
            db().rollback()
            _show_errors(form, exc)
        else:
            db().commit()
            flash(_("Saved."), "info")
            return redirect(url_for("curate.practice", practice_id=practice.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("curate/practice_form.html", form=form, mode="edit",
                           practice=practice), status


# -- reviewing and scoring -------------------------------------------------------------------

@bp.get("/curate/practices/<practice_id>")
@login_required
def practice(practice_id: str):
    """A practice with its history, the review decision and the quality scores."""
    p = get_practice(practice_id)
    domains = quality.domains_with_indicators(db())
    values = quality.scores_of(db(), p.id)
    curators = {c.id: c.email for c in db().scalars(select(Curator))}
    return render_template("curate/practice.html", practice=p, data=practice_json(p),
                           history=review.history(db(), p.id), form=ReviewForm(),
                           domains=domains, values=values,
                           result=quality.score(values, domains), curators=curators)


@bp.post("/curate/practices/<practice_id>/review")
@login_required
def decide(practice_id: str):
    """Publish, reject, request changes or unpublish; publishing makes it searchable at once."""
    p = get_practice(practice_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        raise KbHTTPError(_("Choose a decision."), "action")
    started = time.perf_counter()
    try:
        review.decide(db(), p, form.action.data, current_user, form.reason.data or "")
        review.sync_search(search_service(), db(), p)
    except review.ReviewError as exc:
        db().rollback()
        flash(str(exc) if not exc.errors else "; ".join(exc.errors.values()), "error")
        return redirect(url_for("curate.practice", practice_id=p.id), code=303)
    db().commit()
    status = {"published": _("Published"), "pending": _("Waiting for review"),
              "rejected": _("Rejected"), "changes_requested": _("Changes requested")}[p.status]
    flash(_("Done: %(status)s. Search updated in %(ms)d ms.", status=status,
            ms=round((time.perf_counter() - started) * 1000)), "info")
    return redirect(url_for("curate.practice", practice_id=p.id), code=303)


@bp.post("/curate/practices/<practice_id>/quality")
@login_required
def score(practice_id: str):
    """Save the quality scores (met / partly / not met / unknown per indicator)."""
    p = get_practice(practice_id)
    values = {k[4:]: v for k, v in request.form.items() if k.startswith("ind-")}
    try:
        result = quality.save_scores(db(), p, values, current_user.id)
        if p.status == PUBLISHED:  # search filters and sorts by quality
            review.sync_search(search_service(), db(), p)
    except ValueError as exc:
        db().rollback()
        raise KbHTTPError(str(exc), "quality") from None
    db().commit()
    flash(_("Quality scores saved: overall %(overall)s.",
            overall=f"{result.overall} %" if result.overall is not None else "—"), "info")
    return redirect(url_for("curate.practice", practice_id=p.id) + "#quality", code=303)

