"""Server time per page: p50/p95 of search, practice and other pages, and of recommendations for
1, 10 and all 93 unmet checklist items (cold and warm). Prints figures; not a test.

    OMP_NUM_THREADS=1 .venv/bin/python bench/web_bench.py

Uses the database and index of the current settings (run `make run` first). Times each request
through the whole Flask stack (routing, validation, search, templates) with the test client,
so the figures are server time without the network.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.web import create_app  # noqa: E402

PAGES = {
    "search (html)": ["/search?q=mājoklis+bēgļu+ģimenēm", "/search?q=psychological+support",
                      "/search?q=majoklis&type=practice&country=PL", "/search?q=valodas+kursi&page=2"],
    "search (api)": ["/api/search?q=housing+for+refugee+families", "/api/search?q=mentori&need=women"],
    "practice page": ["/practices/laipni-lugti-majas", "/practices/humans-in-the-loop",
                      "/practices/yalla-trappan"],
    "area page": ["/areas/1", "/areas/4"],
    "home": ["/", "/?lang=en"],
}


def time_recommendations(app, client, rounds: int) -> None:
    """Cold: the index's memo of item rankings emptied before each request; warm: kept."""
    items = [i["id"] for c in client.get("/api/checklists").get_json()["areas"] for i in c["items"]]
    for label, unmet, n in (("1 item", items[:1], rounds), ("10 items", items[:10], rounds // 2),
                            ("all 93 items", items, 3)):
        body = {"unmet": unmet, "limit": 10}
        assert client.post("/api/recommendations", json=body).status_code == 200  # warm up
        for state in ("cold", "warm"):
            samples = []
            for _ in range(n):
                if state == "cold":
                    app.extensions["kb.search"].memo.clear()
                started = time.perf_counter()
                client.post("/api/recommendations", json=body)
                samples.append((time.perf_counter() - started) * 1000)
            samples.sort()
            p95 = samples[int(0.95 * (len(samples) - 1))]
            print(f"{f'recommend {label}, {state}':<29} p50 {statistics.median(samples):7.1f} ms   "
                  f"p95 {p95:7.1f} ms   (n={len(samples)})")


def main(rounds: int = 20) -> None:
    app = create_app()
    client = app.test_client()
    for urls in PAGES.values():
        for url in urls:
            assert client.get(url).status_code == 200, url  # warm up, and check
    for name, urls in PAGES.items():
        samples = []
        for _ in range(rounds):
            for url in urls:
                started = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        p95 = samples[int(0.95 * (len(samples) - 1))]
        print(f"{name:<23} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   (n={len(samples)})")
    time_recommendations(app, client, rounds)


if __name__ == "__main__":
    main()
