"""Relevance judgments: the graded pools behind the evaluation sets, and their adjudication.

Three judges stand behind each evaluation set (corpus/eval/judgments/*.json). The first listed
the relevant practices of every query or checklist item; the second and third graded a pool of
candidates (the first judge's list, the top of several retrievers, and random controls) without
knowing who proposed what: 2 relevant, 1 related or marginal, 0 not relevant. A practice is
relevant when at least two of the three say so. The evaluation sets' `relevant` lists are derived
from these files by `kb adjudicate`, never edited by hand.
"""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

GRADERS = ("second", "third")
RELEVANT = 2   # the grade that counts as a vote for "relevant"
VOTES = 2      # votes needed, of three judges
# The evaluation set of each judgments file: its entries, their key, and the fields kept.
SETS = {
    "search": ("query", "text", ("text", "lang", "need", "relevant")),
    "recommend": ("item", "id", ("id", "relevant")),
}


@dataclass(frozen=True)
class Judged:
    """One query or checklist item: the first judge's list and each grader's grades."""

    key: str
    first: frozenset[str]
    grades: dict[str, dict[str, int]]

    @property
    def relevant(self) -> list[str]:
        """The practices at least VOTES of the three judges call relevant, sorted."""
        pool = set(self.first).union(*self.grades.values())
        return sorted(p for p in pool if self.votes(p) >= VOTES)

    def votes(self, practice: str) -> int:
        return (practice in self.first) + sum(
            grades.get(practice, 0) >= RELEVANT for grades in self.grades.values())


def load(path: Path) -> list[Judged]:
    """Read a judgments file, checking every grade and that the graders saw the same pool."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read judgments: {exc}") from None
    entries = data.get("queries", data.get("items")) if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no 'queries' or 'items' to read")
    judged, seen = [], set()
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: entry {n} is not an object")
        key = entry.get("text", entry.get("id"))
        where = f"{path}: entry {n} ({key!r})"
        first, grades = entry.get("first"), {g: entry.get(g) for g in GRADERS}
        if not isinstance(key, str) or not key:
            raise ValueError(f"{where}: needs a text or id")
        if key in seen:
            raise ValueError(f"{where}: judged twice")
        if not isinstance(first, list) or not all(isinstance(p, str) for p in first):
            raise ValueError(f"{where}: 'first' must be a list of practice IDs")
        if any(not isinstance(g, dict) for g in grades.values()):
            raise ValueError(f"{where}: needs the grades of {' and '.join(GRADERS)}")
        if len({frozenset(g) for g in grades.values()}) != 1:
            raise ValueError(f"{where}: the graders judged different candidates")
        bad = sorted({repr(v) for g in grades.values() for v in g.values()
                      if type(v) is not int or v not in (0, 1, 2)})
        if bad:
            raise ValueError(f"{where}: grades must be 0, 1 or 2, not {', '.join(bad)}")
        missing = sorted(set(first) - set(grades[GRADERS[0]]))
        if missing:
            raise ValueError(f"{where}: the pool lacks the first judge's {missing}")
        seen.add(key)
        judged.append(Judged(key, frozenset(first), grades))
    return judged


def kappa(pairs: list[tuple]) -> float:
    """Cohen's kappa of two judges' labels on the same items."""
    if not pairs:
        return 0.0
    observed = sum(a == b for a, b in pairs) / len(pairs)
    labels = {label for pair in pairs for label in pair}
    expected = sum((sum(a == c for a, _ in pairs) / len(pairs))
                   * (sum(b == c for _, b in pairs) / len(pairs)) for c in labels)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement(judged: list[Judged]) -> dict:
    """How far the judges agree, and what the majority vote changed in the first judge's lists."""
    second, third = GRADERS
    graded, binary, with_first = [], [], {g: [] for g in GRADERS}
    kept = added = removed = 0
    for entry in judged:
        relevant = set(entry.relevant)
        for practice in entry.grades[second]:
            a, b = entry.grades[second][practice], entry.grades[third][practice]
            graded.append((a, b))
            binary.append((a >= RELEVANT, b >= RELEVANT))
            for g in GRADERS:
                with_first[g].append((entry.grades[g][practice] >= RELEVANT,
                                      practice in entry.first))
        kept += len(relevant & entry.first)
        added += len(relevant - entry.first)
        removed += len(entry.first - relevant)
    return {"entries": len(judged), "pairs": len(graded),
            "kappa graded (second, third)": round(kappa(graded), 3),
            "kappa relevant (second, third)": round(kappa(binary), 3),
            **{f"kappa relevant (first, {g})": round(kappa(p), 3) for g, p in with_first.items()},
            "first judge's relevant kept": kept, "added": added, "removed": removed}


def adjudicated_set(eval_path: Path, judged: list[Judged], kind: str) -> str:
    """The evaluation set's TOML with every `relevant` list replaced by the majority vote.

    The set is rewritten whole, so anything it could not write back -- another field, a table,
    a comment below the header -- is refused rather than lost.
    """
    table, key, fields = SETS[kind]
    eval_path = Path(eval_path)
    try:
        text = eval_path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{eval_path}: cannot read the evaluation set: {exc}") from None
    entries = data.get(table)
    if not isinstance(entries, list) or not entries or set(data) != {table}:
        raise ValueError(f"{eval_path}: expected only [[{table}]] entries")
    lines = text.splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    if any(line.lstrip().startswith("#") for line in lines[len(header):]):
        raise ValueError(f"{eval_path}: comments below the header would be lost")
    verdicts = {j.key: j.relevant for j in judged}
    blocks = []
    for n, entry in enumerate(entries, 1):
        unknown = sorted(set(entry) - set(fields))
        if unknown or not isinstance(entry.get(key), str):
            raise ValueError(f"{eval_path}: {table} {n} needs a {key!r} and has only the fields "
                             f"{', '.join(fields)}" + (f" (not {', '.join(unknown)})" if unknown else ""))
        if entry[key] not in verdicts:
            raise ValueError(f"{eval_path}: no judgments for {entry[key]!r}")
        if not verdicts[entry[key]]:
            raise ValueError(f"{eval_path}: no practice is relevant to {entry[key]!r} by the "
                             f"majority vote; drop it or judge more candidates")
        entry = {**entry, "relevant": verdicts[entry[key]]}
        blocks.append("\n".join([f"[[{table}]]"] + [f"{name} = {_toml_value(entry[name])}"
                                                    for name in fields if name in entry]))
    orphans = sorted(set(verdicts) - {e[key] for e in entries})
    if orphans:
        raise ValueError(f"{eval_path}: judgments for entries it does not have: {orphans}")
    return "".join(line + "\n" for line in header) + ("\n" if header else "") + \
        "\n\n".join(blocks) + "\n"


def _toml_value(value) -> str:
    """A string or list of strings as TOML (JSON's escapes are TOML's, bar DEL)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if not isinstance(value, str):
        raise ValueError(f"evaluation sets hold strings and lists of strings, not {value!r}")
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
