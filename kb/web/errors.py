"""One small exception hierarchy; one handler answers JSON for the API and HTML for pages."""
from __future__ import annotations

import re

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class KbHTTPError(Exception):
    """An error with an HTTP status, a message for the user and the parameter at fault."""

    status = 400

    def __init__(self, message: str, param: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if status is not None:
            self.status = status


class BadParameter(KbHTTPError):
    status = 400


class NotFound(KbHTTPError):
    status = 404


class Unavailable(KbHTTPError):
    status = 503


def masked_path() -> str:
    """The request's path with secrets (assessment tokens, suggestions' status links) masked,
    for logs."""
    path = re.sub(r"^/assess/[^/]+", "/assess/<token>", request.path)
    return re.sub(r"^/(suggest/status|api/suggestions)/[^/]+", r"/\1/<token>", path)


def check_input() -> None:
    """Refuse what no parameter may hold -- NUL bytes, lone surrogates -- and JSON nested too
    deeply, with a 400 naming the parameter (databases and encoders would fail on them)."""
    for where in (request.view_args or {}, request.args, request.form):
        for name, value in (where.items(multi=True) if hasattr(where, "getlist")
                            else where.items()):
            _check_text(str(name), value)
    if request.is_json and request.content_length:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            raise BadParameter("the JSON body is nested too deeply", "body") from None
        stack = [("body", body)]
        while stack:
            name, value = stack.pop()
            if isinstance(value, dict):
                stack += [(f"{name}.{k}", v) for k, v in value.items()]
                stack += [(f"{name} key", k) for k in value]
            elif isinstance(value, list):
                stack += [(f"{name}[{i}]", v) for i, v in enumerate(value)]
            else:
                _check_text(name, value)


def _check_text(name: str, value) -> None:
    if not isinstance(value, str):
        return
    if "\x00" in value:
        raise BadParameter(f"{name} may not contain NUL characters", name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadParameter(f"{name} is not valid text (a lone surrogate)", name) from None


def wants_json() -> bool:
    return (request.path.startswith("/api/") or request.args.get("format") == "json"
            or request.accept_mimetypes.best == "application/json")


def error_body(status: int, message: str, param: str | None = None) -> dict:
    """The one JSON error shape: {"error": {"status", "message", "param"}}."""
    return {"error": {"status": status, "message": message, "param": param}}


def _respond(status: int, message: str, param: str | None = None):
    if wants_json():
        return jsonify(error_body(status, message, param)), status
    return render_template("error.html", status=status, message=message, param=param), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(KbHTTPError)
    def handle_kb_error(error: KbHTTPError):
        return _respond(error.status, error.message, error.param)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        body, status = _respond(error.code or 500, error.description or error.name)
        # 405 says which methods there are (Allow); 401/429 may carry their own headers.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        session = g.get("db_session")
        if session is not None:
            session.rollback()  # closed at teardown, after the error page is rendered
        app.logger.exception("unhandled error on %s", masked_path())
        return _respond(500, "Internal server error")
