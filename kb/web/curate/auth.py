"""Login for curators: Flask-Login, with throttled attempts; 401 on the API, redirect on pages."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, jsonify, redirect, request, url_for
from flask_login import current_user

from kb.core.models import Curator
from kb.web.errors import error_body
from kb.web.extensions import login_manager
from kb.web.services import db


def register(app: Flask) -> None:
    login_manager.login_view = "curate.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_curator(session_id: str):
        # "<curator id>.<session version>": a session from before a logout or deactivation
        # names an older version and is not accepted.
        curator_id, _, version = session_id.partition(".")
        if not (curator_id.isdigit() and version.isdigit() and len(curator_id) < 12):
            return None
        curator = db().get(Curator, int(curator_id))
        if curator is None or not curator.active or curator.session_version != int(version):
            return None
        return curator

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            return jsonify(error_body(401, "log in as a curator first", None)), 401
        return redirect(url_for("curate.login", next=request.full_path.rstrip("?")))


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapper
