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
    entries = data.get("queries", data.get("items"))
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no 'queries' or 'items' to read")
    judged = []
    for n, entry in enumerate(entries, 1):
        key = entry.get("text", entry.get("id"))
        grades = {g: entry.get(g) for g in GRADERS}
        where = f"{path}: entry {n} ({key!r})"
        if not key or not isinstance(entry.get("first"), list):
            raise ValueError(f"{where}: needs a text or id and the first judge's list")
        if any(not isinstance(g, dict) for g in grades.values()):
            raise ValueError(f"{where}: needs the grades of {' and '.join(GRADERS)}")
        if len({frozenset(g) for g in grades.values()}) != 1:
            raise ValueError(f"{where}: the graders judged different candidates")
        bad = sorted({v for g in grades.values() for v in g.values()} - {0, 1, 2})
        if bad:
            raise ValueError(f"{where}: grades must be 0, 1 or 2, not {bad}")
        missing = sorted(set(entry["first"]) - set(grades[GRADERS[0]]))
        if missing:
            raise ValueError(f"{where}: the pool lacks the first judge's {missing}")
        judged.append(Judged(key, frozenset(entry["first"]), grades))
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
    """The evaluation set's TOML with every `relevant` list replaced by the majority vote."""
    table, key, fields = SETS[kind]
    text = Path(eval_path).read_text(encoding="utf-8")
    entries = tomllib.loads(text).get(table, [])
    verdicts = {j.key: j.relevant for j in judged}
    unjudged = [e.get(key) for e in entries if e.get(key) not in verdicts]
    if unjudged:
        raise ValueError(f"{eval_path}: no judgments for {unjudged}")
    header = [line for line in text.splitlines() if line.startswith("#")]
    blocks = []
    for entry in entries:
        if not verdicts[entry[key]]:
            raise ValueError(f"{eval_path}: no practice is relevant to {entry[key]!r} by the "
                             f"majority vote; drop it or judge more candidates")
        entry = {**entry, "relevant": verdicts[entry[key]]}
        lines = [f"[[{table}]]"] + [f"{name} = {json.dumps(entry[name], ensure_ascii=False)}"
                                    for name in fields if name in entry]
        blocks.append("\n".join(lines))
    return "\n".join(header) + "\n\n" + "\n\n".join(blocks) + "\n"
