"""Export published practices (JSONL or CSV) and import practices from JSONL, all or nothing."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb.curation import review, schema
from kb import catalogue
from kb.core.models import CURATOR, HANDBOOK, PUBLISHED, Practice, PracticeChange

# The columns of a CSV export: a `schema.PracticeRecord`, its ID first.
FIELDS = ("id", *(name for name in schema.PracticeRecord.model_fields if name != "id"))


def practice_record(p: Practice) -> dict:
    """A practice as a line of `kb export` (a `schema.PracticeRecord`)."""
    return {"id": p.id, **schema.read(p), "source": p.source}


def published(session: Session) -> list[Practice]:
    return list(session.scalars(catalogue.published()))


def export_jsonl(session: Session) -> str:
    return "".join(json.dumps(practice_record(p), ensure_ascii=False) + "\n"
                   for p in published(session))


def export_csv(session: Session) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for p in published(session):
        row = practice_record(p)
        for name in schema.LISTS:  # codes have no spaces, web addresses no line breaks
            row[name] = ("\n" if name == "urls" else " ").join(row[name])
        writer.writerow(row)
    return out.getvalue()


class ImportError_(ValueError):
    """Lines that cannot be imported; nothing was imported."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    created: list[str]
    updated: list[str]


def import_jsonl(session: Session, text: str, search=None) -> ImportReport:
    """Validate every line, then create or update curator practices as published.

    With ``search`` (the search service) the practices become searchable when the session
    commits, in every running server too.

    A handbook practice's ID is refused (ingest owns those). Any bad line: nothing is
    imported, and every problem is reported with its line number.
    """
    problems: list[str] = []
    rows: list[tuple[int, dict, dict]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        practice_id = str(data.get("id") or "").strip()
        if not practice_id or len(practice_id) > schema.ID_LENGTH:
            problems.append(f"line {number}: id is required (at most {schema.ID_LENGTH} "
                            "characters)")
            continue
        if practice_id in seen:
            problems.append(f"line {number}: id {practice_id!r} appears twice")
            continue
        seen.add(practice_id)
        existing = session.get(Practice, practice_id)
        if existing is not None and existing.source == HANDBOOK:
            problems.append(f"line {number}: {practice_id!r} is a handbook practice; "
                            "`kb ingest` owns it")
            continue
        for name in schema.LISTS:
            if not isinstance(data.get(name, []), list):
                problems.append(f"line {number}: {name} must be a list")
                break
        else:
            try:
                values = review.clean_input(session, data)
            except review.ReviewError as exc:
                problems += [f"line {number}: {field}: {msg}" for field, msg in exc.errors.items()]
                continue
            rows.append((number, data, values))
    if problems:
        raise ImportError_(problems)
    report = ImportReport([], [])
    for _number, data, values in rows:
        practice = session.get(Practice, data["id"])
        created = practice is None
        if created:
            practice = Practice(id=data["id"], source=CURATOR, status=PUBLISHED,
                                submitted_via="import", urls=[])
            session.add(practice)
        review.apply_values(practice, values)  # the same field rules as the forms
        practice.status = PUBLISHED
        session.flush()
        session.add(PracticeChange(practice_id=practice.id, action="imported",
                                   fields={"source": [None, "import"]}))
        (report.created if created else report.updated).append(practice.id)
        if search is not None:
            review.sync_search(search, session, practice)
    session.flush()
    return report
