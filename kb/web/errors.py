"""One small exception hierarchy; one handler answers JSON for the API and HTML for pages."""
from __future__ import annotations

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
        return _respond(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        session = g.get("db_session")
        if session is not None:
            session.rollback()  # closed at teardown, after the error page is rendered
        app.logger.exception("unhandled error on %s", request.path)
        return _respond(500, "Internal server error")
