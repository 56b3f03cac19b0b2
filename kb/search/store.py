"""Index folders on disk: one folder per build, a CURRENT pointer, a meta.json in each.

A build is written into a hidden folder, flushed to disk, and only then made current by
atomically replacing the CURRENT file, so a crash mid-build never leaves a half index in use.
A build is never changed once current (later changes live in the database's change log).
Servers read a build into memory when they open it, so older builds can be deleted; the one
just replaced is kept a while for a server that is opening it at that moment.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

FORMAT_VERSION = 8  # 2: documents.jsonl lost the unused "extra" field; 3: activities;
                    # 4: immutable builds with the change log position, keys as text;
                    # 5: the Russian and Ukrainian terms field
                    # 6: documents say when a practice was added (sort=newest)
                    # 7: the english_text field (kb's English rendering)
                    # 8: target groups, ongoing and source (the practice template's facets)
CURRENT = "CURRENT"


class IndexUnavailable(RuntimeError):
    """The search index is missing, stale, or built for another embedder or format."""


def current_folder(root: Path) -> Path | None:
    """The folder of the current build under ``root``, or None when there is none."""
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    folder = root / pointer.read_text(encoding="utf-8").strip()
    return folder if (folder / "meta.json").is_file() else None


def new_build_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f".building-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


KEEP_SECONDS = 600  # a replaced build (or an abandoned half build) is deleted after this


def current_name(root: Path) -> str | None:
    """The name CURRENT points to (cheap: servers read it twice a second)."""
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def activate(root: Path, building: Path) -> Path:
    """Make ``building`` the current index; remove builds replaced long enough ago."""
    _sync_tree(building)
    final = root / building.name.replace(".building-", "index-")
    previous = current_folder(root)
    building.rename(final)
    tmp = root / f"{CURRENT}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(final.name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / CURRENT)
    _sync_dir(root)
    if previous is not None:
        os.utime(previous / "meta.json")  # its retirement starts now
    cutoff = time.time() - KEEP_SECONDS
    for old in root.iterdir():
        if (old.is_dir() and old not in (final, previous)
                and old.name.startswith(("index-", ".building-")) and _age_mark(old) < cutoff):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _age_mark(folder: Path) -> float:
    meta = folder / "meta.json"
    try:
        return (meta if meta.exists() else folder).stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _sync_tree(folder: Path) -> None:
    """Flush a finished build to disk before it becomes current (power loss, kill -9)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _sync_dir(path)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def write_meta(folder: Path, meta: dict) -> None:
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")
