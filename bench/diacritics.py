"""Do queries typed without diacritics lose anything? The lv-ascii evaluation queries against
the same queries typed with diacritics (corpus/eval/diacritics.toml), nDCG@10 per retriever.

    OMP_NUM_THREADS=1 .venv/bin/kb db upgrade && .venv/bin/kb ingest && .venv/bin/kb index
    OMP_NUM_THREADS=1 .venv/bin/python bench/diacritics.py

Searches the index KB_INDEX_DIR / KB_DATABASE_URL name (as `kb eval` does). Prints the figures;
not a test.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from kb.core.config import setting
from kb.core.db import make_engine
from kb.evaluation.metrics import load_queries, ndcg, ranked_practices
from kb.search import make_search

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    pairs = tomllib.loads((ROOT / "corpus/eval/diacritics.toml").read_text("utf-8"))["query"]
    typed = {p["ascii"]: p["typed"] for p in pairs}
    queries = [q for q in load_queries(ROOT / "corpus/eval/search.toml") if q.lang == "lv-ascii"]
    service = make_search(make_engine(setting("KB_DATABASE_URL")))
    reader = service.pinned()
    print(f"{len(queries)} lv-ascii queries, nDCG@10")
    print(f"{'retriever':<10} {'as typed (ascii)':>17} {'with diacritics':>16}")
    for mode in ("lexical", "dense", "hybrid"):
        ascii_ = [ndcg(ranked_practices(reader, q.text, mode), q.relevant) for q in queries]
        marked = [ndcg(ranked_practices(reader, typed[q.text], mode), q.relevant) for q in queries]
        print(f"{mode:<10} {sum(ascii_) / len(ascii_):>17.3f} {sum(marked) / len(marked):>16.3f}")
    service.close()


if __name__ == "__main__":
    main()
