"""The web app: pages for practitioners and the JSON API, in Latvian (default) and English."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from flask import Flask, request
from flask_babel import get_locale

from kb.core.config import setting
from kb.web.extensions import babel, csrf, login_manager

LANGUAGES = ("lv", "en")
LANGUAGE_COOKIE = "lang"


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
    )
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path))
    app.json.ensure_ascii = False
    app.json.sort_keys = False

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

    @app.after_request
    def remember_language(response):
        choice = request.args.get("lang")
        if choice in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, choice, max_age=365 * 24 * 3600,
                                samesite="Lax", httponly=True)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Language", str(get_locale()))
        return response

    return app
