"""Index folders on disk: one folder per build, a CURRENT pointer, a meta.json in each.

A build is written into a hidden folder and only then made current by atomically replacing the
CURRENT file, so a crash mid-build never leaves a half index in use.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

FORMAT_VERSION = 3  # 2: documents.jsonl lost the unused "extra" field; 3: activities
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


def activate(root: Path, building: Path) -> Path:
    """Make ``building`` the current index; remove older builds."""
    final = root / building.name.replace(".building-", "index-")
    building.rename(final)
    tmp = root / f"{CURRENT}.tmp"
    tmp.write_text(final.name, encoding="utf-8")
    os.replace(tmp, root / CURRENT)
    for old in root.iterdir():
        if old.is_dir() and old != final and old.name.startswith(("index-", ".building-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def read_meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def write_meta(folder: Path, meta: dict) -> None:
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")
