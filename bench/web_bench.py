"""Server time per page: p50/p95 of search, practice and other pages. Prints figures; not a test.

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
        print(f"{name:<15} p50 {statistics.median(samples):6.1f} ms   p95 {p95:6.1f} ms   (n={len(samples)})")


if __name__ == "__main__":
    main()
