"""What a change log entry changed, as people read it: a short field before → after, a long
text as a word diff (difflib) -- the words removed and added with a few words around them --
never both copies of a 20,000-character description.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, NamedTuple

LONG = 160     # a text longer than this (before or after) is shown as a word diff
CONTEXT = 8    # words kept around each change
ABRIDGED = 60  # the history shows at most about this many words of one run removed or added
_WORD = re.compile(r"\s*\S+\s*")


class FieldChange(NamedTuple):
    """One field of a change: ``before`` → ``after``, or (a long text) ``diff``."""

    name: str
    before: Any
    after: Any
    diff: list[tuple[str, str]] | None  # ("same" | "gap" | "del" | "ins", text)


def blank(value: Any) -> bool:
    """Nothing to show: no value, an empty text or list, or a flag not set (a submission's
    "ongoing" unticked)."""
    return value is False or value in (None, "", [])


def field_changes(fields: dict, abridge: bool = False) -> list[FieldChange]:
    """The fields of a PracticeChange (name -> [before, after]) to show; a field blank before
    and after (a submission's empty fields) is left out. ``abridge``: a long run of words
    removed or added shows its beginning and end (the history; a reviewer reads it whole)."""
    shown = []
    for name, (before, after) in (fields or {}).items():
        if blank(before) and blank(after):
            continue
        texts = all(isinstance(v, str) or v is None for v in (before, after))
        if texts and max(len(before or ""), len(after or "")) > LONG:
            shown.append(FieldChange(name, None, None, word_diff(
                before or "", after or "", longest=ABRIDGED if abridge else None)))
        else:
            shown.append(FieldChange(name, before, after, None))
    return shown


def word_diff(before: str, after: str, context: int = CONTEXT,
              longest: int | None = None) -> list[tuple[str, str]]:
    """``before`` → ``after`` word by word: what was removed ("del"), added ("ins"), and up to
    ``context`` unchanged words around each change ("same"), the rest elided ("gap"); a run
    removed or added of more than ``longest`` words is elided in its middle too."""
    old, new = _WORD.findall(before), _WORD.findall(after)
    parts: list[tuple[str, str]] = []
    # autojunk would treat the frequent words of a long text as junk and diff badly
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            if i2 > i1:
                parts += _run("del", old[i1:i2], longest)
            if j2 > j1:
                parts += _run("ins", new[j1:j2], longest)
            continue
        same = old[i1:i2]
        head = context if i1 > 0 else 0          # words after the change before this run
        tail = context if i2 < len(old) else 0   # words before the next change
        if len(same) <= head + tail + 2:
            parts.append(("same", "".join(same)))
            continue
        if head:
            parts.append(("same", "".join(same[:head])))
        parts.append(("gap", "…"))
        if tail:
            parts.append(("same", "".join(same[-tail:])))
    return parts


def _run(kind: str, words: list[str], longest: int | None) -> list[tuple[str, str]]:
    if longest is None or len(words) <= longest:
        return [(kind, "".join(words))]
    head, tail = longest * 3 // 4, longest // 4
    return [(kind, "".join(words[:head])), ("gap", f"… {len(words) - head - tail} …"),
            (kind, "".join(words[-tail:]))]
