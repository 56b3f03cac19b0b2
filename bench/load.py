"""Load: req/s and latency of /api/search for 1, 8 and 16 clients, with publishes mixed in.

    OMP_NUM_THREADS=1 .venv/bin/python bench/load.py [--seconds 60] [--clients 1,8,16]
                                                     [--configs one,default] [--threads 4]
    .venv/bin/python bench/load.py --url http://127.0.0.1:5000 [--curator-email E --curator-password P]

Sets up a throw-away database, index (reusing KB_INDEX_DIR's embedding cache) and admin curator;
per configuration (`one`: `kb serve --workers 1`; `default`: no --workers) starts a fresh server
on loopback, times a first pass over the evaluation queries (cold), then each client count for
--seconds: client threads with a keep-alive connection each search the queries shuffled, while a
publisher publishes a practice every ~2 s and polls new connections until search finds it (and
now and then unpublishes one). Prints figures and a markdown table; not a test. --url loads a
running server instead (publishing only with --curator-email and --curator-password).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
KB = str(Path(sys.executable).parent / "kb")
MAX_SECONDS = 600  # hard cap per scenario, whatever --seconds says
FOUND_WITHIN = 5.0  # a publish not searchable by then is an error
CONFIRM = 3  # new connections in a row that must agree a publish is searchable (or gone)
PUBLISH_EVERY = 2.0
EMAIL = "load@example.lv"
CONFIGS = {"one": "1", "default": None}  # name -> value of `kb serve --workers` (None: omit it)


class SetupError(Exception):
    """The data or the server could not be set up: the benchmark cannot run."""


class WrongContent(Exception):
    """A response that is not what the request asks for (its status, or its body)."""


class Connection:
    """One keep-alive HTTP connection (reopened after an error) that keeps the session cookies."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, form and urlencode(form, doseq=True), headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # http.client opens a new connection for the next request
            raise
        for raw in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update((name, m.value) for name, m in SimpleCookie(raw).items())
        return response.status, response.headers, data

    def close(self) -> None:
        self.conn.close()


def search_ids(conn: Connection, query: str) -> list[str]:
    """Ids of the hits for ``query``; raise WrongContent unless it is a 200 with "results"."""
    status, _, body = conn.request("GET", "/api/search?" + urlencode({"q": query}))
    if status != 200:
        raise WrongContent(f"HTTP {status}")
    try:
        return [hit["id"] for hit in json.loads(body)["results"]]
    except (ValueError, KeyError, TypeError):
        raise WrongContent("wrong content (no JSON results)") from None


def timed_search(conn: Connection, query: str, latencies: list, errors: Counter) -> None:
    started = time.perf_counter()
    try:
        search_ids(conn, query)
    except WrongContent as exc:
        errors[str(exc)] += 1
    except (OSError, http.client.HTTPException) as exc:
        errors[f"connection error ({type(exc).__name__})"] += 1
    else:
        latencies.append((time.perf_counter() - started) * 1000)


@dataclass
class Figures:
    latencies: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    published: list = field(default_factory=list)  # publish -> searchable, ms
    not_found: int = 0
    unpublished: int = 0
    still_found: int = 0
    publish_errors: Counter = field(default_factory=Counter)


def percentile(samples: list, p: float) -> float:
    ordered = sorted(samples)
    return ordered[round(p * (len(ordered) - 1))] if ordered else float("nan")


def stats(f: Figures) -> tuple[int, float, float, float, float]:
    """Requests, req/s and p50/p95/p99 latency in ms."""
    n = len(f.latencies) + sum(f.errors.values())
    return (n, n / max(f.seconds, 1e-9), *(percentile(f.latencies, p) for p in (.5, .95, .99)))


def counted(errors: Counter) -> str:
    return ", ".join(f"{kind}: {n}" for kind, n in errors.most_common()) or "0"


def publish_ms(f: Figures) -> str:
    return f"{statistics.median(f.published):.0f} / {max(f.published):.0f}" if f.published else "–"


def describe(label: str, f: Figures) -> str:
    n, rate, p50, p95, p99 = stats(f)
    line = (f"{label}: {n} requests, {rate:.1f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"p99 {p99:.1f} ms, errors {counted(f.errors)}")
    if f.published or f.not_found or f.publish_errors:
        line += (f"\n    publishes {len(f.published) + f.not_found}: publish->searchable p50 / max "
                 f"{publish_ms(f)} ms, not found after publish {f.not_found}; unpublishes "
                 f"{f.unpublished + f.still_found}, still found {f.still_found}; publisher "
                 f"errors {counted(f.publish_errors)}")
    return line


class Publisher:
    """A logged-in admin who submits, publishes and unpublishes practices through the forms."""

    def __init__(self, base: str, email: str, password: str):
        self.base, self.conn = base, Connection(base)
        _, _, page = self.conn.request("GET", "/curate/login")
        found = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if not found:
            raise WrongContent("no CSRF token in the login form")
        self.token = found.group(1).decode()  # the session's token, valid for every form
        self.post("/curate/login", {"email": email, "password": password})
        self.live: list[tuple[str, str]] = []  # published (id, word), oldest first

    def post(self, path: str, form: dict):
        """Post a form; every form answers 303 (a redirect) when it is accepted."""
        status, headers, _ = self.conn.request("POST", path, {**form, "csrf_token": self.token})
        if status != 303:
            raise WrongContent(f"POST {path}: HTTP {status}")
        return headers

    def submit(self, word: str) -> str:
        headers = self.post("/curate/new", {
            "title": f"Slodzes tests {word}", "countries": ["LV"], "area": "5", "needs": ["language"],
            "text": f"Brīvprātīgie rīko sarunu klubu {word} latviešu valodā."})
        return headers["Location"].rstrip("/").rsplit("/", 1)[1]

    def decide(self, practice_id: str, action: str) -> None:
        self.post(f"/curate/practices/{practice_id}/review", {"action": action, "reason": ""})

    def wait_for(self, word: str, practice_id: str, present: bool, errors: Counter) -> float | None:
        """When search for ``word`` began to show (or stop showing) the practice, or None.

        Each poll is a new connection, so with several workers any of them may answer; it counts
        once CONFIRM polls in a row agree, so one up-to-date worker does not hide a stale one.
        """
        deadline, since, agreeing = time.perf_counter() + FOUND_WITHIN, None, 0
        while time.perf_counter() < deadline:
            conn, sent = Connection(self.base), time.perf_counter()
            try:
                agrees = (practice_id in search_ids(conn, word)) == present
            except (OSError, http.client.HTTPException, WrongContent) as exc:
                agrees = False
                errors[f"poll: {exc or type(exc).__name__}"] += 1
            finally:
                conn.close()
            since, agreeing = (since or sent, agreeing + 1) if agrees else (None, 0)
            if agreeing == CONFIRM:
                return since
            time.sleep(0.02)
        return None

    def cycle(self, n: int, f: Figures) -> None:
        word = "".join(random.choices("bcdfghjklmnprstvz", k=10))
        practice_id = self.submit(word)
        started = time.perf_counter()
        self.decide(practice_id, "publish")
        if (found := self.wait_for(word, practice_id, True, f.publish_errors)) is None:
            f.not_found += 1
        else:
            f.published.append((found - started) * 1000)
            self.live.append((practice_id, word))
        if n % 3 == 2 and len(self.live) > 1:
            old_id, old_word = self.live.pop(0)
            self.decide(old_id, "unpublish")
            if self.wait_for(old_word, old_id, False, f.publish_errors) is None:
                f.still_found += 1
            else:
                f.unpublished += 1


def publish_loop(base: str, creds: tuple[str, str], stop: threading.Event, f: Figures) -> None:
    try:
        publisher = Publisher(base, *creds)
    except (OSError, http.client.HTTPException, WrongContent) as exc:
        f.publish_errors[f"login: {exc}"] += 1
        return
    n = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            publisher.cycle(n, f)
        except (OSError, http.client.HTTPException, WrongContent) as exc:
            f.publish_errors[str(exc) or type(exc).__name__] += 1
        n += 1
        stop.wait(max(0.0, PUBLISH_EVERY - (time.monotonic() - started)))


def first_pass(base: str, queries: list[str], seconds: float) -> Figures:
    """One client, every evaluation query once, in a shuffled order (cold for a fresh server)."""
    f, conn, started = Figures(), Connection(base), time.perf_counter()
    for query in random.sample(queries, len(queries)):
        if time.perf_counter() - started > seconds:
            break
        timed_search(conn, query, f.latencies, f.errors)
    f.seconds = time.perf_counter() - started
    conn.close()
    return f


def client_loop(base: str, queries: list[str], stop: threading.Event, f: Figures) -> None:
    conn, order = Connection(base), random.sample(queries, len(queries))
    while not stop.is_set():
        for query in order:
            if stop.is_set():
                break
            timed_search(conn, query, f.latencies, f.errors)
    conn.close()


def run_load(base: str, queries: list[str], clients: int, seconds: float,
             creds: tuple[str, str] | None) -> Figures:
    stop, parts = threading.Event(), [Figures() for _ in range(clients)]
    threads = [threading.Thread(target=client_loop, args=(base, queries, stop, p)) for p in parts]
    total = Figures()
    if creds:
        threads.append(threading.Thread(target=publish_loop, args=(base, creds, stop, total)))
    started = time.perf_counter()
    for t in threads:
        t.start()
    try:
        stop.wait(seconds)
    finally:
        stop.set()
        for t in threads:
            t.join()
    total.seconds = time.perf_counter() - started
    for p in parts:
        total.latencies += p.latencies
        total.errors.update(p.errors)
    return total


def kb(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KB, *args], env=env, capture_output=True, text=True)


def must(env: dict, *args: str) -> None:
    done = kb(env, *args)
    if done.returncode != 0:
        raise SetupError(f"`kb {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")


def set_up(work: Path, password: str) -> dict:
    """A database with the handbook, its index and an admin curator; the server's environment."""
    env = {**os.environ, "KB_DATABASE_URL": f"sqlite:///{work / 'kb.sqlite3'}",
           "KB_INDEX_DIR": str(work / "indexes"), "KB_SECRET_KEY": secrets.token_hex(32),
           "OMP_NUM_THREADS": "1"}
    cache = Path(os.environ.get("KB_INDEX_DIR", ROOT / "indexes")) / "embedding-cache.sqlite3"
    (work / "indexes").mkdir()
    if cache.exists():
        shutil.copy(cache, work / "indexes" / cache.name)
    migrations = kb(env, "db", "--help").returncode == 0
    print(f"set-up in {work}: {'kb db upgrade, ' if migrations else ''}kb ingest, kb index, admin "
          f"curator (embedding cache {'copied' if cache.exists() else 'not found: ~40 s'})")
    if migrations:  # the schema comes from the migrations
        must(env, "db", "upgrade")
    done = kb(env, "ingest")
    if done.returncode != 0 and "kb db upgrade" in done.stdout + done.stderr:
        must(env, "db", "upgrade")
        must(env, "ingest")
    elif done.returncode != 0:
        raise SetupError(f"`kb ingest` failed:\n{done.stdout}{done.stderr}")
    must(env, "index")
    must(env, "curator", "add", EMAIL, "--admin", "--password", password)
    return env


def serve_command(port: int, workers: str | None, threads: int, env: dict) -> list[str]:
    """`kb serve` for one configuration; --workers only when this kb has it (None: its default)."""
    command = [KB, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    if workers is not None and "--workers" in kb(env, "serve", "--help").stdout:
        command += ["--workers", workers]
    return command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(env: dict, workers: str | None, threads: int, log_path: Path):
    """A fresh `kb serve` answering /api/health; its whole process group is ended afterwards."""
    port = free_port()
    command = serve_command(port, workers, threads, env)
    print(f"\n== {' '.join(['kb', *command[1:]])}", flush=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, log_path)
        yield base
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """End the server and all it started (gunicorn's workers share its process group)."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):  # SIGKILL: whatever is left
        try:
            os.killpg(process.pid, sig)
            process.wait(grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def wait_healthy(base: str, process: subprocess.Popen, log_path: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"kb serve exited with {process.returncode}:\n{log_path.read_text()}")
        conn = Connection(base)
        try:
            if conn.request("GET", "/api/health")[0] == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise SetupError(f"kb serve did not answer /api/health within {timeout:.0f} s")


def server_notes(log_path: Path) -> list[str]:
    """What the server's log says about its workers, and its error lines."""
    lines = log_path.read_text(errors="replace").splitlines()
    booted = sum("Booting worker" in line for line in lines)
    notes = [f"workers booted: {booted}" if booted else "one process (no gunicorn workers)"]
    notes += [line for line in lines if line.startswith("Serving kb")][:1]
    bad = Counter(re.sub(r"^(\[[^]]*\] *)+", "", line)[:200] for line in lines
                  if re.search(r"\b(ERROR|CRITICAL|TIMEOUT)\b", line))  # without timestamps
    for n, line in enumerate(lines):  # a traceback ends at its first unindented line
        if line.startswith("Traceback"):
            bad[next((x[:200] for x in lines[n + 1:] if x and not x[0].isspace()), "?")] += 1
    notes += [f"{count} × {line}" for line, count in bad.most_common(6)]
    return notes


def scenarios(base: str, label: str, args, queries: list[str], creds, rows: list) -> None:
    cold = first_pass(base, queries, args.seconds)
    print(describe(f"[{label}] first pass, 1 client", cold))
    rows.append((label, "1, first pass", cold))
    for clients in args.clients:
        figures = run_load(base, queries, clients, args.seconds, creds)
        print(describe(f"[{label}] {clients} clients, {args.seconds:g} s", figures), flush=True)
        rows.append((label, str(clients), figures))


def table(rows: list) -> str:
    lines = ["| server | clients | req/s | p50 ms | p95 ms | p99 ms | errors | publishes "
             "| publish→searchable p50 / max ms | not found |", "|" + " --- |" * 10]
    for label, clients, f in rows:
        _, rate, p50, p95, p99 = stats(f)
        lines.append(f"| {label} | {clients} | {rate:.1f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | "
                     f"{sum(f.errors.values())} | {len(f.published) + f.not_found} | "
                     f"{publish_ms(f)} | {f.not_found} |")
    return "\n".join(lines)


def run_configs(args, queries: list[str], rows: list) -> None:
    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp:
        work, password = Path(tmp), secrets.token_urlsafe(12)
        env = set_up(work, password)
        has_workers = "--workers" in kb(env, "serve", "--help").stdout
        if not has_workers:
            print("note: `kb serve` has no --workers yet: every configuration runs one process")
        for name in args.configs:
            log_path = work / f"server-{name}.log"
            label = f"workers={CONFIGS[name] or 'default'}" if has_workers else f"{name}, no --workers"
            with server(env, CONFIGS[name], args.threads, log_path) as base:
                scenarios(base, label, args, queries, (EMAIL, password), rows)
            notes = server_notes(log_path)
            if CONFIGS[name] is None and has_workers:
                notes[0] += f" (default resolved on {os.cpu_count()} cores)"
            print(f"[{label}] server: " + "\n    ".join(notes))


def client_counts(text: str) -> list[int]:
    return [max(1, min(64, int(n))) for n in text.split(",") if n.strip()]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help=f"per scenario (at most {MAX_SECONDS})")
    parser.add_argument("--clients", type=client_counts, default=[1, 8, 16], help="e.g. 1,8,16")
    parser.add_argument("--configs", type=lambda t: t.split(","), default=list(CONFIGS),
                        help="server configurations: one (--workers 1), default (no --workers)")
    parser.add_argument("--threads", type=int, default=4, help="`kb serve --threads`")
    parser.add_argument("--url", help="load this running server instead (no set-up)")
    parser.add_argument("--curator-email", help="with --url: curator who publishes")
    parser.add_argument("--curator-password", help="with --url: that curator's password")
    args = parser.parse_args()
    args.seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    if unknown := set(args.configs) - set(CONFIGS):
        parser.error(f"unknown --configs {', '.join(sorted(unknown))}: use {', '.join(CONFIGS)}")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))  # so the finally blocks end the server
    with open(ROOT / "corpus" / "eval" / "search.toml", "rb") as f:
        evaluation = tomllib.load(f)["query"]
    queries = [q["text"] for q in evaluation]
    print(f"{len(queries)} queries ({dict(Counter(q['lang'] for q in evaluation))}), "
          f"clients {args.clients}, {args.seconds:g} s each")
    rows: list = []
    try:
        if args.url:
            creds = (args.curator_email, args.curator_password)
            scenarios(args.url.rstrip("/"), args.url, args, queries, creds if all(creds) else None, rows)
        else:
            run_configs(args, queries, rows)
    except SetupError as exc:
        print(f"set-up failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    print("\n" + table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
