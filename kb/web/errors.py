"""One small exception hierarchy; one handler answers JSON for the API and HTML for pages."""
from __future__ import annotations

import re

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from kb.core.messages import N_, DomainError, FieldMessage


class KbHTTPError(Exception):
    """An error with an HTTP status, a message for the user and the parameter at fault.

    With ``values`` the message is an N_-marked msgid with placeholders: pages show it
    translated into the UI language, the JSON API in English (`message`).
    """

    status = 400

    def __init__(self, message: str, param: str | None = None, status: int | None = None,
                 values: dict | None = None):
        self.template = message
        self.values = values or {}
        self.message = message % self.values if self.values else message
        super().__init__(self.message)
        self.param = param
        if status is not None:
            self.status = status

    @classmethod
    def of(cls, error: DomainError, status: int | None = None) -> "KbHTTPError":
        """The HTTP error for a rule's refusal (its message, values and field)."""
        if isinstance(error, DomainError):
            return cls(error.template, error.field, status, error.values)
        return cls(str(error), getattr(error, "field", None), status)

    def shown(self) -> str:
        """The message in the UI language (a rule's refusal among the values, too)."""
        return gettext(self.template, **{
            name: shown(v) if isinstance(v, DomainError) else v
            for name, v in self.values.items()})


def shown(error) -> str:
    """A rule's refusal, or a message about a field, in the UI language (anything else as it
    is)."""
    if isinstance(error, FieldMessage):
        values = {k: gettext(v) if k == "label" else v for k, v in error.values.items()}
        return gettext(error.template).format(**values)
    if isinstance(error, DomainError):
        return gettext(error.template, **error.values)
    return str(error)


class BadParameter(KbHTTPError):
    status = 400


class NotFound(KbHTTPError):
    status = 404


class Unavailable(KbHTTPError):
    status = 503


def masked_path() -> str:
    """The request's path with secrets (assessment tokens, suggestions' status links) masked,
    for logs."""
    path = re.sub(r"^(/assess(?:/shared)?|/quality-check|/api/assessments)/(?!import$)[^/]+",
                  r"\1/<token>", request.path)
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
            raise BadParameter(N_("the JSON body is nested too deeply"), "body") from None
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
        raise BadParameter(N_("%(name)s may not contain NUL characters"), name,
                           values={"name": name})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadParameter(N_("%(name)s is not valid text (a lone surrogate)"), name,
                           values={"name": name}) from None


def wants_json() -> bool:
    return (request.path.startswith("/api/") or request.args.get("format") == "json"
            or request.accept_mimetypes.best == "application/json")


def error_body(status: int, message: str, param: str | None = None) -> dict:
    """The one JSON error shape: {"error": {"status", "message", "param"}}."""
    return {"error": {"status": status, "message": message, "param": param}}


# What pages say for HTTP errors that carry no message of kb's (werkzeug's are English).
PAGE_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please log in first."),
    403: N_("You may not do this."),
    404: N_("There is no page at this address."),
    405: N_("This address does not take this kind of request."),
    413: N_("What you sent is too large."),
    429: N_("Too many requests: please wait a little and try again."),
    500: N_("Something went wrong on our side. Please try again later."),
    503: N_("The service is not available right now. Please try again later."),
}


CSRF_MESSAGE = N_("The form has expired or did not come from kb's own page (CSRF check): "
                  "reload the page and send it again.")


def _respond(status: int, message: str, param: str | None = None, shown: str | None = None):
    """The error as JSON (``message``, English) or as a page (``shown``, the UI language)."""
    if wants_json():
        return jsonify(error_body(status, message, param)), status
    return render_template("error.html", status=status, message=shown or message,
                           param=param), status


def _page_message(status: int, description: str | None) -> str | None:
    default = PAGE_MESSAGES.get(status)
    return gettext(default) if default else description


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(KbHTTPError)
    def handle_kb_error(error: KbHTTPError):
        return _respond(error.status, error.message, error.param, error.shown())

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return _respond(400, error.description, shown=gettext(CSRF_MESSAGE))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        body, status = _respond(error.code or 500, error.description or error.name,
                                shown=_page_message(error.code or 500, error.description))
        # 405 says which methods there are (Allow); 401/429 may carry their own headers.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        session = g.get("db_session")
        if session is not None:
            session.rollback()  # closed at teardown, after the error page is rendered
        app.logger.exception("unhandled error on %s", masked_path())
        return _respond(500, "Internal server error", shown=_page_message(500, None))
