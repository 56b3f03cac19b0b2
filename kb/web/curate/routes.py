"""Curators: log in, submit, review, score and publish practices; the public suggestion form."""
from __future__ import annotations

import time
from datetime import timedelta

from babel import Locale
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask import session as http_session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from kb import catalogue
from kb.curation import accounts, diff, provenance, quality, review, schema
from kb.core.config import setting
from kb.core.vocabulary import COUNTRIES, NEAR_COUNTRIES, fold
from kb.core.models import (HANDBOOK, PRACTICE_LOADS, PUBLISHED, Activity, Area, Curator, Need,
                            Practice, PracticeRevision, SuccessFactor)
from kb.web.curate import bp
from kb.web.curate.auth import admin_required
from kb.web.curate.forms import LoginForm, PracticeForm, ReviewForm, SuggestForm, choice
from kb.web.errors import KbHTTPError, NotFound, shown
from kb.web.helpers import localized, percent
from kb.web.serialize import practice_json
from kb.web.services import db, search_service

SUGGEST_WINDOW = timedelta(hours=1)


class TooManyRequests(KbHTTPError):
    status = 429


class Forbidden(KbHTTPError):
    status = 403


def _client_address() -> str:
    return request.remote_addr or "unknown"


# -- login -----------------------------------------------------------------------------------

@bp.route("/curate/login", methods=["GET", "POST"])
def login():
    """Log in as a curator; repeated wrong passwords are throttled."""
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        # Wrong passwords are counted per account *and address* -- someone guessing cannot lock
        # the curator out from everywhere else -- and per address over all accounts, with a
        # higher limit, so spraying many accounts from one address is stopped too.
        address = _client_address()
        limit = setting("KB_LOGIN_ATTEMPTS")
        limits = {f"login:pair:{email}|{address}": limit,
                  f"login:ip:{address}": limit * accounts.ADDRESS_FACTOR}
        # Each lock-out of this account from this address doubles the next wait (15 min,
        # 30 min, 1 h ... at most a day): guessing slows down exponentially.
        window = accounts.backoff(db(), f"login:strikes:{email}|{address}")
        too_many = ngettext("Too many failed logins. Wait %(num)d minute and try again.",
                            "Too many failed logins. Wait %(num)d minutes and try again.",
                            int(window.total_seconds() // 60))
        windows = dict(zip(limits, (window, accounts.LOGIN_WINDOW)))
        if any(accounts.count(db(), k, windows[k]) >= n for k, n in limits.items()):
            raise TooManyRequests(too_many)
        # Count the attempt before the password is checked, and decide on the counts the
        # database returns: of many attempts at once, at most `limit` check a password.
        counts = {k: accounts.hit(db(), k, windows[k]) for k in limits}
        if any(counts[k] > n for k, n in limits.items()):
            db().rollback()  # a refused attempt is not counted
            raise TooManyRequests(too_many)
        if counts[next(iter(limits))] == limit:  # this attempt, if wrong, locks the pair
            accounts.hit(db(), f"login:strikes:{email}|{address}", accounts.STRIKES_WINDOW)
        db().commit()  # counted for everyone while the password is checked
        curator = accounts.authenticate(db(), email, form.password.data)
        if curator is None:
            flash(_("Wrong email or password."), "error")
            return render_template("curate/login.html", form=form), 401
        # A success forgives this account's attempts from here, and takes back its own count
        # from the address -- not other accounts' attempts: logging in to one's own account
        # must not reset a spray, and colleagues behind one proxy logging in are not counted.
        pair, address_key = limits
        accounts.clear(db(), pair)
        accounts.undo(db(), address_key)
        db().commit()
        http_session.permanent = True  # ends after KB_SESSION_HOURS
        login_user(curator)
        target = request.args.get("next", "")
        # Only a page of this site's curation area; a control character (CR LF would split
        # the Location header) or a scheme-relative "//host" is ignored.
        if (not target.startswith("/curate") or target.startswith("//")
                or any(ord(c) < 32 or c == "\\" for c in target)):
            target = url_for("curate.queue")
        return redirect(target, code=303)
    return render_template("curate/login.html", form=form)


@bp.post("/curate/logout")
@login_required
def logout():
    """Log out: this curator's sessions end here and everywhere (server-side)."""
    accounts.end_sessions(db(), current_user)
    db().commit()
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


def _revisions() -> list[dict]:
    """The practices (handbook ones too) with a revision waiting for review, oldest first."""
    rows = db().execute(select(Practice, PracticeRevision, Curator.email)
                        .join(PracticeRevision, PracticeRevision.practice_id == Practice.id)
                        .join(Curator, Curator.id == PracticeRevision.proposed_by)
                        .order_by(PracticeRevision.proposed_at))
    return [{"id": p.id, "title": p.title, "source": p.source, "proposed_by": email,
             "own": r.proposed_by == current_user.id} for p, r, email in rows]


@bp.get("/curate")
@login_required
def queue():
    """The review queue: revisions waiting, pending, changes requested, published, rejected."""
    return render_template("curate/queue.html", groups=_queue_data(), revisions=_revisions())


@bp.get("/api/curate/queue")
@login_required
def api_queue():
    """The review queue as JSON (curators only: 401 otherwise)."""
    return jsonify(_queue_data())


# -- submitting and editing ----------------------------------------------------------------------

def _fill_choices(form: PracticeForm) -> None:
    form.countries.choices = [choice(c, name) for c, name in sorted(
        _country_labels().items(), key=lambda pair: fold(pair[1]).lower())]
    # Shown first: Latvia and its neighbours, and the countries kb has practices from; the
    # rest is behind "more countries" (no JavaScript needed).
    form.countries.likely = set(NEAR_COUNTRIES) | set(catalogue.practice_countries(db()))
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
    """The form's values by the practice schema's field names (web addresses one a line,
    language codes separated by commas or spaces)."""
    raw = {name: form[name].data for name in schema.FIELDS}
    return {**raw, "urls": (raw["urls"] or "").splitlines(),
            "languages": (raw["languages"] or "").replace(",", " ").split()}


def _show_errors(form: PracticeForm, error: review.ReviewError) -> None:
    for name, message in error.errors.items():  # the form's fields are the schema's
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, shown(message)]


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
    # From the assessment table's "suggest this practice": its scores go with the suggestion.
    self_check = quality.check_of_token(db(), request.values.get("quality_check", ""))
    if self_check is not None and request.method == "GET":
        form.title.data = form.title.data or self_check.title
        form.organisation.data = form.organisation.data or self_check.organisation
    if form.validate_on_submit():
        if form.website.data:  # a bot filled in the hidden field: say thanks, keep nothing
            return render_template("curate/thanks.html")
        key = f"suggest:ip:{_client_address()}"
        limit = setting("KB_SUGGESTIONS_PER_HOUR")
        too_many = _("Too many suggestions from this address. Please try again in an hour.")
        if accounts.count(db(), key, SUGGEST_WINDOW) >= limit:
            return _suggest_form(form, self_check, too_many, 429)
        try:
            suggested = review.submit(db(), _raw(form), None, via="public")
        except review.ReviewError as exc:
            _show_errors(form, exc)
        else:
            if self_check is not None:
                quality.attach_self_scores(db(), self_check.token, suggested.id)
            token = provenance.issue_token(suggested)  # the submitter's private status link
            # The count the database returns decides: of many suggestions sent at once,
            # exactly `limit` are kept.
            if accounts.hit(db(), key, SUGGEST_WINDOW) > limit:
                db().rollback()
                return _suggest_form(form, self_check, too_many, 429)
            db().commit()
            return render_template("curate/thanks.html", status_link=url_for(
                "curate.suggestion_status", token=token, _external=True))
    return _suggest_form(form, self_check, None, 400 if request.method == "POST" else 200)


def _suggest_form(form, self_check, refusal: str | None, status: int):
    """The suggestion form again, with everything typed kept (and why it was not taken)."""
    if refusal:
        flash(refusal, "error")
    return render_template("curate/practice_form.html", form=form, mode="suggest",
                           self_check=self_check), status


def get_practice(practice_id: str, intent: str = "view") -> Practice:
    """The practice the curator is about to ``intent``, by the curation rules
    (`review.practice_for`): 404 when there is none, 403 when they may not."""
    try:
        practice = review.practice_for(db(), practice_id, current_user, intent)
    except review.NotAllowed as exc:
        raise Forbidden.of(exc) from None
    if practice is None:
        raise NotFound(f"no practice with id {practice_id!r}", "id")
    return practice


def _form_from(practice: Practice) -> PracticeForm:
    """The edit form with the practice's values -- or those of the curator's own revision
    waiting for review, to change it further."""
    revision = review.revision_of(db(), practice.id)
    own = revision is not None and revision.proposed_by == current_user.id
    values = review.proposed_values(db(), practice) if own else schema.read(practice)
    return PracticeForm(data={**values, "area": str(values["area"]),
                              "success_factor": values["success_factor"] or "",
                              "urls": "\n".join(values["urls"]),
                              "languages": ", ".join(values["languages"]),
                              **{n: "" if values[n] is None else str(values[n])
                                 for n in ("period_start", "period_end", "reach")}})


@bp.route("/curate/practices/<practice_id>/edit", methods=["GET", "POST"])
@login_required
def edit(practice_id: str):
    """Edit a curator's practice; a published one keeps its text until another curator
    approves the change (a revision). The change log keeps before and after."""
    practice = get_practice(practice_id, "edit")
    form = PracticeForm() if request.method == "POST" else _form_from(practice)
    _fill_choices(form)
    if form.validate_on_submit():
        published = practice.status == PUBLISHED
        try:
            change = review.edit(db(), practice, _raw(form), current_user)
        except review.ReviewError as exc:
            db().rollback()
            _show_errors(form, exc)
            if not exc.errors:
                flash(shown(exc), "error")
        else:
            db().commit()
            flash(_("Nothing changed.") if change is None
                  else _("Your change waits for another curator's review; the published text "
                         "stays until then.") if published else _("Saved."), "info")
            return redirect(url_for("curate.practice", practice_id=practice.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("curate/practice_form.html", form=form, mode="edit",
                           practice=practice), status


# -- reviewing and scoring -------------------------------------------------------------------

def _field_labels() -> dict[str, str]:
    """What the change log calls a practice's fields: the form's labels, in the UI language."""
    form = PracticeForm(meta={"csrf": False})
    labels = {name: str(field.label.text) for name, field in form._fields.items()}
    labels.update({"status": _("Status"), "review_reason": _("Reason"),
                   "quality_overall": _("Quality score"), "good_practice": _("Good practice"),
                   review.NOTE: _("Correction note")})
    return labels


def _country_labels() -> dict[str, str]:
    """Every country code kb knows, by its name in the UI language."""
    names = Locale.parse(str(get_locale())).territories
    return {code: names.get(code, code) for code in COUNTRIES}


@bp.get("/curate/practices/<practice_id>")
@login_required
def practice(practice_id: str):
    """A practice with its history, the revision waiting for review, the review decision
    (or, for a handbook practice, its correction note and hiding) and the quality scores."""
    p = get_practice(practice_id)
    domains = quality.domains_with_indicators(db())
    values = quality.scores_of(db(), p.id)
    curators = {c.id: c.email for c in db().scalars(select(Curator))}
    revision = review.revision_of(db(), p.id)
    proposal = None
    if revision is not None:
        proposal = {"by": curators.get(revision.proposed_by), "at": revision.proposed_at,
                    "own": revision.proposed_by == current_user.id,
                    "digest": review.revision_digest(revision),
                    "fields": diff.field_changes(review.revision_fields(revision))}
    history = [(c, diff.field_changes(c.fields, abridge=True))
               for c in review.history(db(), p.id)]
    # The note form shows the curator's own note waiting for review, to change it further.
    note = (review.proposed_values(db(), p)[review.NOTE] if proposal and proposal["own"]
            else p.correction_note)
    return render_template("curate/practice.html", practice=p, data=practice_json(p),
                           history=history, field_labels=_field_labels(),
                           country_labels=_country_labels(),
                           form=ReviewForm(), handbook=p.source == HANDBOOK,
                           proposal=proposal, note=note, note_limit=schema.NOTE_LIMIT,
                           reason_limit=schema.REASON_LIMIT, domains=domains, values=values,
                           result=quality.score(values, domains), curators=curators,
                           **_self_scores(p.id, domains))


def _self_scores(practice_id: str, domains) -> dict:
    """The submitter's own scores from the assessment table, shown beside the curators'."""
    check = quality.self_scores_of(db(), practice_id)
    return {"self_values": dict(check.scores) if check else None,
            "self_result": quality.score(dict(check.scores), domains) if check else None}


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
        _flash_refusal(exc)
        return redirect(url_for("curate.practice", practice_id=p.id), code=303)
    db().commit()
    status = {"published": _("Published"), "pending": _("Waiting for review"),
              "rejected": _("Rejected"), "changes_requested": _("Changes requested"),
              "hidden": _("Hidden")}[p.status]
    flash(_("Done: %(status)s. Search updated in %(ms)d ms.", status=status,
            ms=round((time.perf_counter() - started) * 1000)), "info")
    return redirect(url_for("curate.practice", practice_id=p.id), code=303)


@bp.post("/curate/practices/<practice_id>/quality")
@login_required
def score(practice_id: str):
    """Save the quality scores (met / partly / not met / unknown per indicator); the change
    log keeps each indicator's score before and after."""
    p = get_practice(practice_id, "score")
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
            overall=percent(result.overall)), "info")
    return redirect(url_for("curate.practice", practice_id=p.id) + "#quality", code=303)



# -- revisions, correction notes, hiding -------------------------------------------------------

def _flash_refusal(exc: review.ReviewError) -> None:
    flash(shown(exc) if not exc.errors else "; ".join(map(shown, exc.errors.values())), "error")


def _act(p: Practice, run, done, search: bool):
    """``run()`` a review action on ``p`` -- with its search change when ``search``, in the same
    transaction -- flash ``done(its result)`` or why it was refused, and go back to ``p``."""
    try:
        result = run()
        if search:
            review.sync_search(search_service(), db(), p)
    except review.ReviewError as exc:
        db().rollback()
        _flash_refusal(exc)
    else:
        db().commit()
        flash(done(result), "info")
    return redirect(url_for("curate.practice", practice_id=p.id), code=303)


@bp.post("/curate/practices/<practice_id>/revision")
@login_required
def decide_revision(practice_id: str):
    """Approve the revision waiting for review (it is published, and search updated, at once)
    or reject it with a reason (it is discarded)."""
    p = get_practice(practice_id)
    action = request.form.get("action", "")
    return _act(p, lambda: review.decide_revision(
        db(), p, action, current_user, request.form.get("reason", ""),
        seen=request.form.get("seen", "")),
        lambda _change: _("Revision approved: it is published.") if action == "approve"
        else _("Revision rejected: it is discarded."), search=p.status == PUBLISHED)


@bp.post("/curate/practices/<practice_id>/note")
@login_required
def note(practice_id: str):
    """Propose a correction note for a handbook practice: shown with it once another curator
    approves it, and kept by `kb ingest`."""
    p = get_practice(practice_id, "note")
    return _act(p, lambda: review.set_note(db(), p, request.form.get("note", ""), current_user),
                lambda change: _("Nothing changed.") if change is None
                else _("The note waits for another curator's review."), search=False)


@bp.post("/curate/practices/<practice_id>/hide")
@login_required
@admin_required
def hide(practice_id: str):
    """Hide a handbook practice (admins, with a reason); `kb ingest` keeps it hidden."""
    p = get_practice(practice_id, "hide")
    return _act(p, lambda: review.hide(db(), p, current_user, request.form.get("reason", "")),
                lambda _change: _("Hidden: it is no longer shown or found."), search=True)


@bp.post("/curate/practices/<practice_id>/show")
@login_required
@admin_required
def show(practice_id: str):
    """Publish a hidden handbook practice again (admins)."""
    p = get_practice(practice_id, "show")
    return _act(p, lambda: review.show(db(), p, current_user, request.form.get("reason", "")),
                lambda _change: _("Shown again: it is published."), search=True)
