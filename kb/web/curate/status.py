"""A public suggestion's private status link: what became of it, for whoever holds the link."""
from __future__ import annotations

from flask import jsonify, render_template
from flask_babel import gettext as _

from kb.curation import provenance
from kb.web.curate import bp
from kb.web.errors import NotFound, wants_json
from kb.web.serialize import suggestion_status_json
from kb.web.services import db


def _suggestion_status(token: str) -> dict:
    practice = provenance.by_token(db(), token)
    if practice is None:  # says nothing about other suggestions
        raise NotFound(_("No suggestion has this status link."), "token")
    return suggestion_status_json(practice)


@bp.get("/suggest/status/<token>")
def suggestion_status(token: str):
    """A suggestion's status, for whoever holds its private link: waiting for review, changes
    requested (with the reason), published (with its page) or rejected (with the reason)."""
    data = _suggestion_status(token)
    if wants_json():
        return jsonify(data)
    return render_template("curate/status.html", suggestion=data)


@bp.get("/api/suggestions/<token>")
def api_suggestion_status(token: str):
    """A suggestion's status by its private link's token: pending, changes_requested (with the
    reason), published or rejected (with the reason)."""
    return jsonify(_suggestion_status(token))
