"""Publish -> searchable: time from a curator's "publish" to the practice appearing in search.

    OMP_NUM_THREADS=1 .venv/bin/python bench/publish_bench.py [--practices 10]

Builds a throw-away database and index (reusing the embedding cache in KB_INDEX_DIR when there
is one), adds two curators, and for each practice: one curator submits it, the other publishes
it through the web app; the clock runs from the publish request until /api/search returns it.
Prints the figures; not a test.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.curation import accounts, review  # noqa: E402
from kb.core.config import setting  # noqa: E402
from kb.core.db import create_schema, make_engine, session_factory, transaction  # noqa: E402
from kb.ingest import ingest  # noqa: E402
from kb.search import build_index, default_embedder, load_documents  # noqa: E402
from kb.web import create_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-publish-"))
    url = f"sqlite:///{work / 'kb.sqlite3'}"
    engine = make_engine(url, check=False)
    create_schema(engine)
    ingest(ROOT / "corpus" / "handbook.lv.txt", engine, ROOT / "corpus")
    cache = Path(setting("KB_INDEX_DIR")) / "embedding-cache.sqlite3"
    (work / "indexes").mkdir()
    if cache.exists():
        shutil.copy(cache, work / "indexes" / cache.name)
    embedder = default_embedder()
    with session_factory(engine)() as session:
        build_index(work / "indexes", load_documents(session), embedder)
    with transaction(engine) as session:
        anna = accounts.add_curator(session, "anna@example.lv", "anna-password-1")
        accounts.add_curator(session, "janis@example.lv", "janis-password-1")
        ids = [review.submit(session, {
            "title": f"Sarunu klubs {n}", "countries": ["LV"], "area": "5",
            "text": f"Brīvprātīgie rīko sarunu klubu numur {n} latviešu valodā.",
            "needs": ["language"]}, anna, "curator").id for n in range(args.practices)]
    app = create_app({"DATABASE_URL": url, "INDEX_DIR": str(work / "indexes"),
                      "EMBEDDER": embedder, "SECRET_KEY": "bench"})
    client = app.test_client()
    token = lambda page: re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                                   client.get(page).get_data(as_text=True)).group(1)
    client.post("/curate/login", data={"email": "janis@example.lv", "password": "janis-password-1",
                                       "csrf_token": token("/curate/login")})
    samples = []
    for n, practice_id in enumerate(ids):
        page = f"/curate/practices/{practice_id}"
        data = {"action": "publish", "reason": "", "csrf_token": token(page)}
        started = time.perf_counter()
        client.post(page + "/review", data=data)
        while True:
            hits = client.get(f"/api/search?q=sarunu+klubs+numur+{n}&type=practice").get_json()
            if practice_id in [h["id"] for h in hits["results"]]:
                break
        samples.append(time.perf_counter() - started)
    ms = sorted(s * 1000 for s in samples)
    print(f"publish -> searchable over {len(ms)} practices: p50 {statistics.median(ms):.0f} ms, "
          f"max {ms[-1]:.0f} ms")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
