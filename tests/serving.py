"""Helpers for tests that run kb as users do: copies of the handbook data, real servers, HTTP."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KB = Path(sys.executable).parent / "kb"
ADMIN = ("boss@example.lv", "boss-password-1")


def copy_handbook(folder: Path, database, index_root: Path) -> tuple[str, Path]:
    """A copy of the ingested handbook ``database`` (a SQLite file, or an engine on one) and of
    its index in ``folder``: (url, index root).

    The copy's build gets a name of its own: a generation (build@change) names one state of
    one index, and two tests' copies go on differently from the same build. (What they hold,
    `content()`, is alike until then: the recommendations' rankings, keyed by it, are shared.)
    """
    from kb.search.store import CURRENT, current_name
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(getattr(getattr(database, "url", None), "database", None) or database)
    shutil.copyfile(source, folder / "kb.sqlite3")
    root = folder / "indexes"
    shutil.copytree(index_root, root, ignore=shutil.ignore_patterns(".build.lock", "*.tmp"))
    name = current_name(root)
    if name is not None:
        own = f"{name}-{uuid.uuid4().hex[:8]}"
        (root / name).rename(root / own)
        (root / CURRENT).write_text(own, encoding="utf-8")
    return f"sqlite:///{folder / 'kb.sqlite3'}", root


def add_admin(url: str) -> None:
    from kb.curation import accounts
    from kb.core.db import make_engine, transaction
    engine = make_engine(url)
    with transaction(engine) as session:
        accounts.add_curator(session, *ADMIN, admin=True)
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url: str, index_root: Path, **extra) -> dict:
    return {**os.environ, "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(index_root),
            "KB_SECRET_KEY": "serving-test-secret", "OMP_NUM_THREADS": "1", **extra}


class Server:
    """`kb serve` in a subprocess on a free port; stopped (with its workers) on close."""

    def __init__(self, env: dict, workers: int = 1, threads: int = 4):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(env["KB_INDEX_DIR"]).parent / f"server-{self.port}.log", "w+")
        self.process = subprocess.Popen(
            [str(KB), "serve", "--port", str(self.port), "--workers", str(workers),
             "--threads", str(threads)], env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kb serve exited: {self.output()}")
            try:
                if get_json(self.base + "/api/health", timeout=2)[0] in (200, 503):
                    return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise RuntimeError(f"kb serve did not answer: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)
        self.log.close()


def get_json(url: str, timeout: float = 10) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, {"body": body[:300].decode(errors="replace")}


def search_ids(base: str, query: str) -> list[str]:
    status, data = get_json(f"{base}/api/search?" + urllib.parse.urlencode(
        {"q": query, "type": "practice", "limit": 20}))
    assert status == 200, data
    return [r["id"] for r in data["results"]]


class Curator:
    """A logged-in browser session of a curator (cookies, CSRF tokens from the forms)."""

    def __init__(self, base: str, email: str = ADMIN[0], password: str = ADMIN[1]):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect())
        status, _ = self.post("/curate/login", {"email": email, "password": password})
        assert status == 303, "login failed"

    def _csrf(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=20) as response:
            html = response.read().decode()
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)

    def post(self, path: str, data: dict, form: str | None = None) -> tuple[int, str]:
        data = {**data, "csrf_token": self._csrf(form or path)}
        body = urllib.parse.urlencode(data, doseq=True).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=30) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")

    def submit(self, title: str, text: str) -> str:
        status, location = self.post("/curate/new", {
            "title": title, "countries": ["LV"], "area": "5", "text": text,
            "needs": ["language"]})
        assert status == 303, status
        return location.rsplit("/", 1)[1]

    def decide(self, practice_id: str, action: str) -> None:
        page = f"/curate/practices/{practice_id}"
        status, _ = self.post(page + "/review", {"action": action, "reason": ""}, form=page)
        assert status == 303, status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@contextmanager
def searched_throughout(servers: list, queries: list[str], clients: int, pause: float = 0.02):
    """``clients`` threads search ``servers`` in turn, cycling through ``queries``, while the
    block runs; then the servers are closed, and no request may have failed and no log may
    hold a traceback. Yields a one-item list: how many searches were answered.

    Each client waits ``pause`` seconds between its searches: requests still overlap (several
    clients, several workers), but the load leaves the block's own work CPU to run on."""
    errors, done, served = [], threading.Event(), [0]

    def load(n: int) -> None:
        while not done.wait(pause if served[0] else 0):
            base = servers[n % len(servers)].base
            query = queries[served[0] % len(queries)]
            status, body = get_json(f"{base}/api/search?" + urllib.parse.urlencode({"q": query}))
            served[0] += 1
            if status != 200 or "results" not in body:
                errors.append(f"{base} {query!r}: {status} {str(body)[:200]}")

    threads = [threading.Thread(target=load, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    try:
        yield served
    finally:
        done.set()
        for t in threads:
            t.join(30)
        logs = [s.output() for s in servers]
        for s in servers:
            s.close()
    assert errors == [], errors[:5]
    assert not any("Traceback" in log for log in logs), logs
