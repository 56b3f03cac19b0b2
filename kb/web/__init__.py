"""The web app: pages for practitioners and the JSON API, in Latvian (default) and English."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from datetime import timedelta

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from flask_babel import get_locale

from kb.core.config import setting
from kb.core.vocabulary import LANGUAGES
from kb.web.extensions import babel, csrf, login_manager

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
LANGUAGE_COOKIE = "lang"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure when KB_SECURE_COOKIES says so (`auto`: when the
    request itself came over HTTPS)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        choice = setting("KB_SECURE_COOKIES")
        return choice == "on" or (choice == "auto" and request.is_secure)


def select_locale() -> str:
    """The ?lang= choice, else the remembered cookie, else the browser's best match, else lv."""
    for choice in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def instance_secret(folder: Path) -> str:
    """The secret in ``folder``/secret_key, made once (mode 0600) and shared by every worker,
    so sessions and CSRF tokens outlive a restart and work whichever worker answers."""
    path = folder / "secret_key"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker may be writing it this very moment
            secret = path.read_text(encoding="utf-8").strip()
            if secret:
                return secret
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty: delete it, or set KB_SECRET_KEY") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults from KB_* settings, then instance config, then ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=setting("KB_SECRET_KEY"),
        DATABASE_URL=setting("KB_DATABASE_URL"),
        INDEX_DIR=setting("KB_INDEX_DIR"),
        EMBEDDER=None,  # None: the one KB_EMBEDDER names
        BABEL_DEFAULT_LOCALE="lv",
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,  # larger requests get 413
        WTF_CSRF_TIME_LIMIT=None,         # tokens live as long as the session
        PERMANENT_SESSION_LIFETIME=timedelta(hours=setting("KB_SESSION_HOURS")),
    )
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path))
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    app.session_interface = SessionInterface()
    proxies = setting("KB_TRUSTED_PROXIES")
    if proxies:  # addresses and schemes as the proxies saw them, not the proxy's own
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)

    from kb.web.errors import register_error_handlers
    from kb.web.services import init_services
    from kb.web import helpers
    init_services(app)
    register_error_handlers(app)
    helpers.register(app)

    from kb.web.main import bp as main_bp
    from kb.web.api import bp as api_bp
    from kb.web.assess import bp as assess_bp
    from kb.web.curate import bp as curate_bp
    from kb.web.curate import auth
    auth.register(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(assess_bp)
    app.register_blueprint(curate_bp)
    # The JSON API takes no form posts: its POSTs need Content-Type application/json, which a
    # cross-site form cannot send, so it needs no CSRF token.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api")

    from kb.web.errors import check_input
    app.before_request(check_input)

    @app.after_request
    def remember_language(response):
        choice = request.args.get("lang")
        if choice in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, choice, max_age=365 * 24 * 3600,
                                samesite="Lax", httponly=True)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Pages work without JavaScript; the one script is a file of this site. Nothing may
        # frame the forms, and assessment links (secret tokens) never leave in a Referer.
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Language", str(get_locale()))
        return response

    return app
