"""Shared fixtures: the parsed handbook (once per session) and a fresh database per test."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.db import make_engine
from kb.ingest import parse_handbook
from kb.ingest.curation import load_curation

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "handbook.lv.txt"
CURATION = ROOT / "corpus"


@pytest.fixture(scope="session")
def handbook_text() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def curation():
    return load_curation(CURATION)


@pytest.fixture(scope="session")
def handbook(handbook_text, curation):
    return parse_handbook(handbook_text, curation)


@pytest.fixture()
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'kb.sqlite3'}"


@pytest.fixture()
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def runner(db_url, monkeypatch) -> CliRunner:
    monkeypatch.setenv("KB_DATABASE_URL", db_url)
    return CliRunner()
