"""Security: no input answers 500 (SQLite and PostgreSQL), headers, sessions, throttling, secrets."""
from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from conftest import csrf_from, login
from databases import POSTGRES, postgres_copy
from serving import copy_handbook

from kb.core.db import transaction
from kb.curation import accounts

PASSWORD = "anna-password-1"


def make_app(url, index_root, embedder, **config):
    from kb.web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INDEX_DIR": str(index_root),
                      "EMBEDDER": embedder, "SECRET_KEY": "security", **config})
    with transaction(app.extensions["kb.engine"]) as session:
        accounts.add_curator(session, "anna@example.lv", PASSWORD)
        accounts.add_curator(session, "janis@example.lv", "janis-password-1")
    return app


@contextmanager
def handbook_app(request, folder, handbook_engine, handbook_index_root, make):
    """``make(url, index root)``'s app on a copy of the handbook in ``request.param``'s
    database -- a SQLite file, or a PostgreSQL schema -- with its own index copy (its own
    generations); closed afterwards."""
    from conftest import close_app
    if request.param == "sqlite":
        url, root = copy_handbook(folder, handbook_engine, handbook_index_root)
        app = make(url, root)
        yield app
        close_app(app)
        return
    if not POSTGRES:
        pytest.skip("set KB_TEST_POSTGRES_URL (.ci/run does)")
    with postgres_copy(request.getfixturevalue("postgres_handbook_template"),
                       "kb_security") as url:
        _, root = copy_handbook(folder, handbook_engine, handbook_index_root)
        app = make(url, root)
        yield app
        close_app(app)


@pytest.fixture(params=["sqlite", "postgresql"])
def web(request, tmp_path, handbook_engine, handbook_index_root, embedder):
    """An app with two curators on a copy of the handbook: SQLite, or a PostgreSQL schema."""
    with handbook_app(request, tmp_path / "data", handbook_engine, handbook_index_root,
                      lambda url, root: make_app(url, root, embedder)) as app:
        yield app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def reader(request, tmp_path_factory, handbook_engine, handbook_index_root, embedder):
    """An app on a copy of the handbook, SQLite or PostgreSQL, shared by this module's tests
    that only read: its engine refuses writes (`read_only`), so none can change what the next
    one sees."""
    from conftest import new_app, read_only

    def make(url, root):
        app = new_app(url, root, embedder)
        read_only(app.extensions["kb.engine"], "reader")
        return app

    with handbook_app(request, tmp_path_factory.mktemp(f"reader-{request.param}"),
                      handbook_engine, handbook_index_root, make) as app:
        yield app


DEEP = "[" * 50_000 + "]" * 50_000
BAD_INPUTS = [  # (method, url, body or form, the parameter the 400 names)
    ("GET", "/api/search?limit=" + "9" * 5000, None, "limit"),
    ("GET", "/api/search?offset=" + "1" * 5000, None, "offset"),
    ("GET", "/api/search?area=" + "3" * 5000, None, "area"),
    ("GET", "/search?page=" + "2" * 5000, None, "page"),
    ("GET", "/api/search?need=a%00b", None, "need"),
    ("GET", "/api/search?factor=%00", None, "factor"),
    ("GET", "/api/search?activity=x%00", None, "activity"),
    ("GET", "/api/search?q=m%C4%81joklis%00", None, "q"),
    ("GET", "/api/practices/no%00such", None, "practice_id"),
    ("POST", "/api/recommendations", '{"unmet": ["\\ud800"]}', "body.unmet[0]"),
    ("POST", "/api/recommendations", DEEP, "body"),
    ("POST", "/api/recommendations", '{"unmet": ["area-1-01"], "lang\\u0000": 1}', "body key"),
]


@pytest.mark.parametrize("method, url, body, param", BAD_INPUTS)
def test_bad_input_is_a_400_naming_the_parameter(reader, method, url, body, param):
    client = reader.test_client()
    response = client.open(url, method=method, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    if url.startswith("/api/"):
        error = response.get_json()["error"]
        assert error["status"] == 400 and error["param"] == param and error["message"]


@pytest.mark.parametrize("url, status", [
    ("/api/areas/9223372036854775808", 404), ("/areas/9223372036854775808", 404),
    ("/api/areas/0", 404), ("/api/areas/" + "7" * 5000, 404)])
def test_huge_numbers_in_paths_are_not_found(reader, url, status):
    response = reader.test_client().get(url)
    assert response.status_code == status
    if url.startswith("/api/"):
        assert response.get_json()["error"]["status"] == status


@pytest.mark.parametrize("url, form", [
    ("/curate/login", {"email": "anna@example.lv\x00", "password": "x"}),
    ("/suggest", {"title": "Prakse\x00", "countries": ["LV"], "area": "5", "text": "Teksts."}),
    ("/assess", {"organisation": "Dome\x00", "organisation_type": "municipality"}),
])
def test_nul_bytes_in_forms_are_refused_and_nothing_is_saved(web, url, form):
    client = web.test_client()
    response = client.post(url, data={**form, "csrf_token": csrf_from(client, url)})
    assert response.status_code == 400
    from sqlalchemy import func, select

    from kb.core.models import Assessment, Practice
    with transaction(web.extensions["kb.engine"]) as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 0
        assert session.scalar(select(func.count()).select_from(Practice)
                              .where(Practice.source == "curator")) == 0


def test_a_405_says_which_methods_there_are(reader):
    response = reader.test_client().post("/api/search")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.get_json()["error"]["status"] == 405


def test_a_crlf_in_next_is_ignored(web):
    client = web.test_client()
    url = "/curate/login?next=/curate%0D%0ASet-Cookie:%20evil=1"
    response = client.post(url, data={"email": "anna@example.lv", "password": PASSWORD,
                                      "csrf_token": csrf_from(client, "/curate/login")})
    assert response.status_code == 303 and response.headers["Location"].endswith("/curate")
    assert "evil" not in str(response.headers)


@pytest.mark.parametrize("url", ["/", "/search?q=majoklis", "/api/search?q=x", "/curate/login",
                                 "/assess"])
def test_every_answer_carries_the_security_headers(client, url):
    headers = client.get(url).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_no_page_has_inline_script():
    from pathlib import Path
    templates = Path(__file__).resolve().parent.parent / "kb" / "web" / "templates"
    for path in templates.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert " on" + "click=" not in html and "<script>" not in html, path.name


# -- sessions -------------------------------------------------------------------------------

def _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder, **config):
    url, root = copy_handbook(tmp_path / "data", handbook_engine, handbook_index_root)
    return make_app(url, root, embedder, **config)


def test_a_cookie_copied_before_logout_is_dead_after_it(tmp_path, handbook_engine,
                                                        handbook_index_root, embedder):
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    client = app.test_client()
    assert login(client, "anna@example.lv", PASSWORD).status_code == 303
    stolen = client.get_cookie("session").value
    assert client.get("/curate").status_code == 200
    client.post("/curate/logout", data={"csrf_token": csrf_from(client, "/curate")})
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/curate").status_code == 302  # to the login page
    assert replay.get("/api/curate/queue").status_code == 401


def test_deactivating_a_curator_ends_their_sessions(tmp_path, handbook_engine,
                                                     handbook_index_root, embedder, monkeypatch):
    from click.testing import CliRunner

    from kb.cli import cli
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    client = app.test_client()
    assert login(client, "anna@example.lv", PASSWORD).status_code == 303
    monkeypatch.setenv("KB_DATABASE_URL", app.config["DATABASE_URL"])
    result = CliRunner().invoke(cli, ["curator", "deactivate", "anna@example.lv"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/curate/queue").status_code == 401
    assert login(app.test_client(), "anna@example.lv", PASSWORD).status_code == 401


@pytest.mark.parametrize("choice, https, secure", [
    ("on", False, True), ("off", True, False), ("auto", True, True), ("auto", False, False)])
def test_secure_cookies(tmp_path, handbook_engine, handbook_index_root, embedder, monkeypatch,
                        choice, https, secure):
    monkeypatch.setenv("KB_SECURE_COOKIES", choice)
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    client = app.test_client()
    base = "https://localhost" if https else "http://localhost"
    token = csrf_from(client, base + "/curate/login")
    response = client.post(base + "/curate/login", data={
        "email": "anna@example.lv", "password": PASSWORD, "csrf_token": token},
        headers={"Referer": base + "/curate/login"})  # Flask-WTF checks it over HTTPS
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert ("; Secure" in cookie) is secure
    assert "Expires=" in cookie  # the session lifetime (KB_SESSION_HOURS)


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path, handbook_engine,
                                                              handbook_index_root, embedder,
                                                              monkeypatch):
    monkeypatch.setenv("KB_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("KB_LOGIN_ATTEMPTS", "2")
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    for visitor in ("203.0.113.1", "203.0.113.2"):  # two visitors behind one proxy
        for _ in range(2):
            client = app.test_client()
            client.environ_base["HTTP_X_FORWARDED_FOR"] = visitor
            token = csrf_from(client, "/curate/login")
            response = client.post("/curate/login", data={
                "email": "anna@example.lv", "password": "wrong-password", "csrf_token": token})
            assert response.status_code == 401, visitor  # each has their own count


# -- throttling -------------------------------------------------------------------------------

def _attempt(app, email, password, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/curate/login", data={"email": email, "password": password,
                                              "csrf_token": csrf_from(client, "/curate/login")})


def test_guessing_from_one_address_does_not_lock_the_curator_out_elsewhere(
        tmp_path, handbook_engine, handbook_index_root, embedder, monkeypatch):
    monkeypatch.setenv("KB_LOGIN_ATTEMPTS", "3")
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    codes = [_attempt(app, "anna@example.lv", "wrong", "10.0.0.66").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert _attempt(app, "anna@example.lv", PASSWORD, "10.0.0.7").status_code == 303
    assert _attempt(app, "janis@example.lv", "janis-password-1", "10.0.0.66").status_code == 303


def test_spraying_many_accounts_from_one_address_is_stopped(
        tmp_path, handbook_engine, handbook_index_root, embedder, monkeypatch):
    monkeypatch.setenv("KB_LOGIN_ATTEMPTS", "2")  # per address: 4 x 2 = 8 over all accounts
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    codes = [_attempt(app, f"user{i}@example.lv", "wrong", "10.0.0.99").status_code
             for i in range(4)]
    # logging in to one's own account does not reset the address's count
    assert _attempt(app, "anna@example.lv", PASSWORD, "10.0.0.99").status_code == 303
    codes += [_attempt(app, f"user{i}@example.lv", "wrong", "10.0.0.99").status_code
              for i in range(4, 9)]
    assert codes == [401] * 8 + [429]


def test_unknown_and_known_emails_cost_the_same_work(monkeypatch, tmp_path, handbook_engine,
                                                     handbook_index_root, embedder):
    """The same password hashing either way (an unknown email used to cost two), so the time
    of the answer does not tell which emails have accounts."""
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    calls = []
    check, make = accounts.check_password_hash, accounts.generate_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: calls.append("check") or check(*a))
    monkeypatch.setattr(accounts, "generate_password_hash", lambda *a: calls.append("make") or make(*a))
    accounts._dummy_hash()  # made once per process, before any login
    with transaction(app.extensions["kb.engine"]) as session:
        calls.clear()
        accounts.authenticate(session, "nobody@example.lv", "wrong-password")
        unknown = list(calls)
        calls.clear()
        accounts.authenticate(session, "anna@example.lv", "wrong-password")
        known = list(calls)
    assert unknown == known == ["check"]


# -- secrets ----------------------------------------------------------------------------------

def test_kb_settings_masks_secrets_and_passwords(monkeypatch):
    from click.testing import CliRunner

    from kb.cli import cli
    monkeypatch.setenv("KB_SECRET_KEY", "s3cr3t-value")
    monkeypatch.setenv("KB_DATABASE_URL", "postgresql+psycopg://kb:hunter2@db.example/kb")
    output = CliRunner().invoke(cli, ["settings"]).output
    assert "s3cr3t-value" not in output and "hunter2" not in output
    assert "KB_SECRET_KEY=***" in output and "kb:***@db.example/kb" in output


def test_a_500_logs_neither_the_assessment_token_nor_sql_values(tmp_path, handbook_engine,
                                                                handbook_index_root, embedder,
                                                                caplog, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from kb.assessment import assess
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    app.config["TESTING"] = False  # errors go through the handler, as in production
    client = app.test_client()
    created = client.post("/assess", data={"organisation": "Dome",
                                           "csrf_token": csrf_from(client, "/assess")})
    token = created.headers["Location"].split("/")[2]

    def broken(session, *args, **kwargs):
        from sqlalchemy import text
        session.execute(text("INSERT INTO curator (id, email, password_hash) VALUES (:a, :b, :c)"),
                        {"a": 1, "b": "anna@example.lv", "c": "secret note text"})  # duplicate
    monkeypatch.setattr(assess, "save_page", broken)
    page = f"/assess/{token}/1"
    with caplog.at_level(logging.ERROR):
        response = client.post(page, data={"csrf_token": csrf_from(client, page), "note": "x"})
    assert response.status_code == 500
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records) + \
        "\n".join(str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert "/assess/<token>" in logged and token not in logged
    assert "secret note text" not in logged and "anna@example.lv" not in logged
    assert IntegrityError.__name__ in logged


def test_each_lock_out_doubles_the_wait(tmp_path, handbook_engine, handbook_index_root,
                                        embedder, monkeypatch):
    from datetime import timedelta

    from kb.core.models import RateCounter
    monkeypatch.setenv("KB_LOGIN_ATTEMPTS", "2")
    app = _web_sqlite(tmp_path, handbook_engine, handbook_index_root, embedder)
    engine = app.extensions["kb.engine"]
    waits = []
    for _ in range(3):
        codes = [_attempt(app, "anna@example.lv", "wrong", "10.0.0.5").status_code
                 for _ in range(3)]
        assert codes == [401, 401, 429]
        with transaction(engine) as session:
            waits.append(accounts.backoff(session, "login:strikes:anna@example.lv|10.0.0.5"))
            # the lock-out's window has passed: move its start back by the window
            row = session.get(RateCounter, "login:pair:anna@example.lv|10.0.0.5")
            row.window_start = row.window_start - waits[-1] - timedelta(seconds=1)
    assert waits == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)]
    page = _attempt(app, "anna@example.lv", "wrong", "10.0.0.5")
    assert page.status_code == 401  # the window passed: one more try
